//! A send checked without being sent, for `checkTemplate` and a dry run of `sendBulk`: every check the send makes
//! before its first write, with reads only (a template's definition and approval, a customer's 24-hour window).
//! Nothing is created or written, not even the customer's conversation.

use crate::config::OutsideWindow;
use crate::error::Result;
use crate::messages::Messages;
use crate::phone::Customer;
use crate::variables::Variables;

/// What a send would be.
pub enum Draft<'a> {
  Template {
    content_sid: &'a str,
    variables: &'a Variables,
    allow_samples: bool,
  },
  Text {
    text: &'a str,
    author: Option<&'a str>,
  },
  Image {
    url: &'a str,
    caption: Option<&'a str>,
  },
}

/// The template a check read.
#[derive(Debug, Clone)]
pub struct TemplateReport {
  pub content_sid: String,
  /// `None` when the Content API could not answer and `templateUnavailable` lets such sends go unchecked.
  pub friendly_name: Option<String>,
  pub approval_status: Option<String>,
}

/// A send that would go.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
  /// Whether the customer's 24-hour window is open, when it was read: for every free-form message, and for an
  /// unapproved template.
  pub window_open: Option<bool>,
  pub template: Option<TemplateReport>,
}

impl Messages {
  /// `to` may be absent for a template alone (`checkTemplate`): the customer's window is then not read.
  pub async fn preflight(&self, to: Option<&str>, draft: Draft<'_>, key: Option<&str>) -> Result<Preflight> {
    let customer = to.map(|to| self.customer(to)).transpose()?;
    self.caller_key(key)?;
    match draft {
      Draft::Template {
        content_sid,
        variables,
        allow_samples,
      } => {
        let content_sid = crate::input::content_sid(content_sid)?;
        let admitted = Box::pin(self.templates.admit(
          content_sid,
          variables,
          allow_samples,
          customer.as_ref().map(|c| self.recipient(c)),
        ))
        .await?;
        Ok(Preflight {
          window_open: admitted.window_open,
          template: Some(TemplateReport {
            content_sid: content_sid.to_string(),
            friendly_name: admitted.definition.as_ref().map(|d| d.friendly_name.clone()),
            approval_status: admitted.definition.as_ref().map(|d| d.approval_status.clone()),
          }),
        })
      }
      Draft::Text { text, author } => {
        crate::input::text(text)?;
        author.map(crate::input::author).transpose()?;
        self.freeform(customer.as_ref()).await
      }
      Draft::Image { url, caption } => {
        crate::input::media_url(url)?;
        caption.map(crate::input::caption).transpose()?;
        self.freeform(customer.as_ref()).await
      }
    }
  }

  /// A free-form message's window, read; refused as the send would be with `freeformOutsideWindow: 'refuse'`.
  async fn freeform(&self, customer: Option<&Customer>) -> Result<Preflight> {
    let Some(customer) = customer else {
      return Ok(Preflight::default());
    };
    let open = if self.config.freeform_outside_window == OutsideWindow::Refuse {
      Box::pin(self.windows.require_open(customer)).await?;
      true
    } else {
      Box::pin(self.windows.is_open(customer)).await?
    };
    Ok(Preflight {
      window_open: Some(open),
      template: None,
    })
  }
}
