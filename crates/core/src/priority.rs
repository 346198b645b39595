//! Who goes next in a lane: an interactive send (a code, a reply, a confirmation) ahead of a campaign's, and the
//! campaign's guaranteed share of the turns, so that interactive traffic slows a campaign and never stops it. The
//! pacer ([`crate::pacing`]) decides when a lane may start; this decides which of its waiting calls does.

use std::collections::BTreeMap;

use tokio::sync::oneshot;

/// What a send is to the people waiting for it: an interactive send goes ahead of a campaign's in every lane; the
/// campaign keeps a share of each contested lane ([`BULK_SHARE`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
  #[default]
  Interactive,
  Bulk,
}

/// Interactive turns in a row after which a waiting campaign send has the next one: a campaign keeps at least one
/// start in `BULK_SHARE + 1` (a fifth) of a lane interactive sends contend for.
pub const BULK_SHARE: u32 = 4;

/// A waiting call's order in its lane: interactive before bulk, then a call that waited its turn before first,
/// then by ticket (the order the calls were asked), then by when it joined (two waits of one call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Turn {
  pub class: Class,
  pub first_time: bool,
  pub ticket: u64,
  pub joined: u64,
}

/// The calls in a lane, the head included, by class.
#[derive(Debug, Default)]
pub struct Members {
  all: usize,
  bulk: usize,
}

impl Members {
  pub fn join(&mut self, class: Class) {
    self.all += 1;
    if class == Class::Bulk {
      self.bulk += 1;
    }
  }

  pub fn leave(&mut self, class: Class) {
    self.all = self.all.saturating_sub(1);
    if class == Class::Bulk {
      self.bulk = self.bulk.saturating_sub(1);
    }
  }

  pub fn count(&self) -> usize {
    self.all
  }

  pub fn interactive(&self) -> usize {
    self.all - self.bulk.min(self.all)
  }

  /// How many of the lane's calls go before a call of `class` joining now: every one for a campaign's send; for
  /// an interactive one, the interactive calls and the campaign's share among them.
  pub fn ahead_of(&self, class: Class) -> usize {
    match class {
      Class::Bulk => self.all,
      Class::Interactive => {
        let interactive = self.interactive();
        interactive + interactive.div_ceil(BULK_SHARE as usize).min(self.bulk)
      }
    }
  }

  #[cfg(test)]
  pub fn set(&mut self, all: usize) {
    self.all = all;
  }
}

/// The calls waiting behind a lane's head, in turn order. A call that gave up leaves its sender here; the baton
/// passes over it.
#[derive(Debug, Default)]
pub struct Waiting {
  queue: BTreeMap<Turn, oneshot::Sender<()>>,
  /// Interactive turns handed on in a row while a campaign send waited: at [`BULK_SHARE`] the next turn is bulk's.
  interactive_run: u32,
}

impl Waiting {
  /// Puts a call in line; the receiver hears when it is the head.
  pub fn wait(&mut self, turn: Turn) -> oneshot::Receiver<()> {
    let (sender, receiver) = oneshot::channel();
    self.queue.insert(turn, sender);
    receiver
  }

  /// The first campaign send in line: the queue is in class order, so a range rather than a walk past every
  /// interactive call (a hundred thousand of them, queued at once).
  fn first_bulk(&self) -> Option<Turn> {
    let lowest = Turn {
      class: Class::Bulk,
      first_time: false,
      ticket: 0,
      joined: 0,
    };
    self.queue.range(lowest..).next().map(|(turn, _)| *turn)
  }

  /// Makes the next live call the head: interactive calls first; after [`BULK_SHARE`] interactive turns in a row, a
  /// waiting campaign send. The class of the call woken; none when no call is left waiting.
  pub fn wake_next(&mut self) -> Option<Class> {
    loop {
      let bulk_due = self.interactive_run >= BULK_SHARE;
      let next = match self.first_bulk() {
        Some(bulk) if bulk_due => self.queue.remove_entry(&bulk),
        _ => self.queue.pop_first(),
      };
      let (turn, sender) = next?;
      if sender.send(()).is_ok() {
        let bulk_waits = turn.class == Class::Interactive && self.first_bulk().is_some();
        self.interactive_run = if bulk_waits { self.interactive_run + 1 } else { 0 };
        return Some(turn.class);
      }
    }
  }
}
