//! Pacing: writes to one conversation (messages, participants, updates), and conversation creations, start no
//! faster than Twilio accepts them, in the order they asked, however many are waiting.
//!
//! Each key (the service, or one conversation) has a lane: the calls waiting for it, in the order the calls were
//! asked (their [`crate::call::ticket`]: a send asked earlier goes first even when its lookup answered later),
//! and the latest starts. Only the call at the head of a lane reserves a start (at most `rate` in any [`WINDOW`]);
//! the others wait their turn without holding anything, so a call that ends while it waits (a timeout, a process
//! shutting down) costs no one a slot, and a head that ends before its start gives its reservation back.
//!
//! In front of each lane, a gate ([`Pacer::enter`]): a lane lets in two windows' worth of sends, and the sends
//! beyond wait there in the same order with only their checked input, none of the state their lookups, uploads and
//! turns would make, so a queue of a hundred thousand costs what its entries hold.
//!
//! A call that already waited its turn once (a retry after a 429, a creation repeated without the system
//! identity) goes back in at the front, keeping its place. A call whose start would lie further than
//! `maxQueueMs` away is refused before it queues (`QUEUE_FULL`, with when to try again).
//!
//! The budget is this process's own, or a fleet's through Redis ([`crate::fleet`]), whose starts a lane's head
//! reserves in batches when Redis is far away: the calls behind it take them from the lane's stock. 429s that come despite
//! pacing (another process sending for the same account without Redis) halve the lane's rate, at most once a
//! window, once they are more than a sixth of the rate within one window: fewer are requests that reached Twilio
//! later than they started (a cold connection, a busy host), which are only retried, while a lane that shares its
//! budget with a sender it does not know of sees a third of its writes refused or more; each success raises it by one start a window, back up to Twilio's (additive increase, multiplicative
//! decrease, as TCP shares a link), and a slowed lane spreads its starts evenly over the window rather than in a
//! burst: processes that cannot share a budget converge on a share each.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::fleet::{Fleet, Reservation, Slot};
use crate::priority::{Class, Members, Turn, Waiting};
use crate::sync::Unpoisoned;

/// One second of Twilio's, plus a margin for the jitter between a request's start and its arrival at Twilio: 3%
/// of the rate, for campaigns at 97% of Twilio's.
pub const WINDOW: Duration = Duration::from_millis(1030);
/// A slowed lane nobody waits in is forgotten once its last cut is this old.
const IDLE: Duration = Duration::from_secs(30);
/// A start made this much later than its reservation counts from when it was made: more than the timer's tick
/// (a millisecond), which would otherwise slow every start of sustained traffic by as much.
const LATE: Duration = Duration::from_millis(5);
/// A start the fleet reserved and this process made later than this is moved in Redis (a round trip): half the
/// window's margin, which absorbs the rest.
const LATE_IN_REDIS: Duration = Duration::from_millis(15);
/// A lane lets in this many windows' worth of sends at Twilio's rate (per class); the others wait at its gate (see
/// [`Pacer::enter`]).
const ENTERED_WINDOWS: usize = 2;

/// What a write counts against at Twilio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PaceKey {
  /// Conversation creation and deletion, limited per service.
  Service,
  /// A conversation's messages, participants and updates, by SID.
  Conversation(String),
}

impl PaceKey {
  /// The lane's name in the fleet's keys.
  fn lane(&self) -> String {
    match self {
      Self::Service => "service".to_string(),
      Self::Conversation(sid) => format!("conversation:{sid}"),
    }
  }
}

pub struct Pacer {
  rate: u32,
  max_queue: Duration,
  lanes: Mutex<Lanes>,
  fleet: Option<Arc<Fleet>>,
}

#[derive(Default)]
struct Lanes {
  by_key: HashMap<PaceKey, Lane>,
  /// The map's size after the last sweep; the next sweep waits until it has doubled.
  swept_at: usize,
}

struct Lane {
  /// Twilio's rate, the most starts a window ever allows.
  full_rate: usize,
  /// The latest starts (at most one more than the full rate), oldest first; the last may lie ahead (the head's reservation).
  starts: VecDeque<Instant>,
  /// How many starts a window allows now: the full rate, lowered by 429s and raised back by successes.
  rate: f64,
  /// When the rate was last cut: one cut per window, however many 429s that window brought.
  cut_at: Option<Instant>,
  /// The 429s of the latest window that brought one: when it began, and how many.
  refused: Option<(Instant, usize)>,
  /// Whether a call holds the head: it reserves while the others wait in `queue`.
  head: bool,
  /// Whether the head holds a reservation it has not started on: that start is among `starts` and the head among
  /// `members`, and is counted once.
  held: bool,
  /// The calls waiting behind the head.
  waiting: Waiting,
  /// Tells apart two waits of one call in one lane.
  joined: u64,
  /// Calls in the lane, the head included.
  members: Members,
  /// Starts the fleet reserved for this lane's next heads, oldest first: a Redis further away than a start at
  /// Twilio's rate is asked for several at once, and ahead of need (see [`Pacer::refill`]).
  stock: VecDeque<(Slot, Instant)>,
  /// A reservation for the stock is on its way.
  refilling: bool,
  /// Sends let in through the gate (see [`Pacer::enter`]), by class.
  entered: Members,
  /// Sends waiting at the gate, in turn order, and how many of each class.
  gate: Waiting,
  at_gate: Members,
}

impl Lane {
  fn new(rate: u32) -> Self {
    Self {
      full_rate: usize::try_from(rate).unwrap_or(usize::MAX),
      starts: VecDeque::new(),
      rate: f64::from(rate),
      cut_at: None,
      refused: None,
      head: false,
      held: false,
      waiting: Waiting::default(),
      joined: 0,
      members: Members::default(),
      stock: VecDeque::new(),
      refilling: false,
      entered: Members::default(),
      gate: Waiting::default(),
      at_gate: Members::default(),
    }
  }

  /// The place in line of a call of `class` joining now (`first_time`: it has not waited a turn before).
  fn next_turn(&mut self, class: Class, first_time: bool) -> Turn {
    self.joined += 1;
    Turn {
      class,
      first_time,
      ticket: crate::call::ticket(),
      joined: self.joined,
    }
  }

  /// The sends of one class the lane lets in at once.
  fn room(&self) -> usize {
    self.full_rate.saturating_mul(ENTERED_WINDOWS).max(1)
  }

  /// Whether a send of `class` arriving now goes through the gate at once: nobody at the gate goes before it, and
  /// its class has room (an interactive send counts only the interactive ones in).
  fn opens_for(&self, class: Class) -> bool {
    let inside = match class {
      Class::Interactive => self.entered.interactive(),
      Class::Bulk => self.entered.count(),
    };
    self.at_gate.ahead_of(class) == 0 && inside < self.room()
  }

  /// A send that entered has ended: the next ones at the gate come in while there is room.
  fn let_in(&mut self) {
    while self.entered.count() < self.room()
      || (self.at_gate.interactive() > 0 && self.entered.interactive() < self.room())
    {
      let Some(class) = self.gate.wake_next() else {
        return;
      };
      self.at_gate.leave(class);
      self.entered.join(class);
    }
  }

  /// Twilio's rate as the lane's rate is counted.
  fn full(&self) -> f64 {
    // A rate is a `u32` (Twilio's is 30): exact as a float.
    self.full_rate as f64
  }

  fn allowed(&self) -> usize {
    // The rate lies between 1 and Twilio's, so the conversion is exact.
    self.rate.floor().max(1.0) as usize
  }

  /// When the next start may be, reserved for the head: now, or once the window holds fewer than the allowed
  /// starts.
  fn reserve(&mut self, now: Instant) -> Instant {
    let allowed = self.allowed();
    let mut at = now;
    if let Some(oldest) = self
      .starts
      .len()
      .checked_sub(allowed)
      .and_then(|index| self.starts.get(index))
    {
      at = at.max(*oldest + WINDOW);
      // Sustained traffic (a window's starts within the last two): starts at least half a start apart, so that a
      // window's burst smears into a stream. Requests sent in a burst reach Twilio in any order, and a late one
      // from one burst and an early one from the next are less than a second apart.
      if *oldest + WINDOW * 2 > now {
        if let Some(last) = self.starts.back() {
          at = at.max(*last + spacing(allowed));
        }
      }
    }
    // A slowed lane shares Twilio's budget with other senders: its starts are spread evenly over the window
    // rather than sent in a burst, so that every sender's writes meet Twilio's limit, and its 429s, in proportion
    // to their rates, which is what makes their rates converge on equal shares.
    if self.rate < self.full() {
      if let Some(last) = self.starts.back() {
        at = at.max(*last + WINDOW.div_f64(self.rate));
      }
    }
    self.record(at);
    at
  }

  /// Logs the head's reservation.
  fn record(&mut self, at: Instant) {
    self.held = true;
    self.log(at);
  }

  /// Logs a start reserved for this lane.
  fn log(&mut self, at: Instant) {
    self.starts.push_back(at);
    // One more than the rate: should this reservation be given back, the start before it still counts.
    while self.starts.len() > self.full_rate + 1 {
      self.starts.pop_front();
    }
  }

  /// The start reserved for `at` was made at `now`: a busy I/O thread or a late timer starts a request later than
  /// its reservation, and the starts a window after it count from when it went, or they reach Twilio less than a
  /// second after it.
  fn started(&mut self, at: Instant, now: Instant) {
    if now <= at + LATE {
      return;
    }
    if let Some(last) = self.starts.back_mut() {
      if *last == at {
        *last = now;
      }
    }
  }

  /// Gives back the head's reservation, which nothing can have followed.
  fn release(&mut self, at: Instant) {
    if self.starts.back() == Some(&at) {
      self.starts.pop_back();
    }
  }

  /// Roughly how long a call of `class` joining now would wait for its start: the calls ahead of it, in whole
  /// windows. An interactive call has only the interactive calls ahead of it, and the campaign's share.
  fn estimate(&self, now: Instant, class: Class) -> Duration {
    let allowed = self.allowed();
    let recent = self.starts.iter().filter(|start| **start + WINDOW > now).count();
    let members = self.members.ahead_of(class) + self.at_gate.ahead_of(class);
    // A head that has reserved is among the members already, whether its start lies ahead or has come and the
    // head has not yet woken to it; so are the members the stock's starts are for.
    let ahead = (members + recent).saturating_sub(usize::from(self.held) + self.stock.len());
    if ahead < allowed {
      return Duration::ZERO;
    }
    let windows = (ahead + 1 - allowed).div_ceil(allowed);
    WINDOW.saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX))
  }

  /// The head has started (or given up): the next live call in the queue becomes the head (see [`Waiting`]).
  fn pass_baton(&mut self) {
    self.held = false;
    self.head = self.waiting.wake_next().is_some();
  }

  fn slowed(&mut self, now: Instant) {
    let refused = match &mut self.refused {
      Some((since, count)) if now < *since + WINDOW => {
        *count += 1;
        *count
      }
      other => other.insert((now, 1)).1,
    };
    if refused <= self.full_rate / 6 {
      return;
    }
    if self.cut_at.is_none_or(|cut| now >= cut + WINDOW) {
      self.rate = (self.rate / 2.0).max(1.0);
      self.cut_at = Some(now);
    }
  }

  fn sped_up(&mut self) {
    if self.rate < self.full() {
      self.rate = (self.rate + 1.0 / self.rate).min(self.full());
    }
  }

  /// Nobody waits, nothing started lately, and the rate is whole again (or its cut long past).
  fn idle(&self, now: Instant) -> bool {
    let past = |at: Instant, age: Duration| now.saturating_duration_since(at) >= age;
    self.members.count() == 0
      && self.entered.count() == 0
      && self.at_gate.count() == 0
      && !self.refilling
      && self.starts.back().is_none_or(|last| past(*last, WINDOW))
      && (self.rate >= self.full() || self.cut_at.is_none_or(|cut| past(cut, IDLE)))
  }
}

impl Lanes {
  /// The lane of `key`, made at `rate` if it has none.
  fn lane(&mut self, key: &PaceKey, rate: u32) -> &mut Lane {
    self.by_key.entry(key.clone()).or_insert_with(|| Lane::new(rate))
  }

  /// Forgets idle lanes, once the map has doubled since the last sweep: memory follows the keys written to
  /// lately, whatever the number of conversations overall.
  fn sweep(&mut self, now: Instant) {
    if self.by_key.len() < 1024.max(self.swept_at * 2) {
      return;
    }
    self.by_key.retain(|_, lane| !lane.idle(now));
    self.swept_at = self.by_key.len();
  }
}

/// The least time between two starts of a lane under sustained traffic: half a start at `rate` a window.
pub fn spacing(rate: usize) -> Duration {
  WINDOW / u32::try_from(rate.max(1).saturating_mul(2)).unwrap_or(u32::MAX)
}

/// What the head reserved and has not started yet.
enum Reserved {
  Local(Instant),
  Fleet(Slot, Instant),
}

/// The most starts one Redis round trip reserves for a lane: enough for two round trips at Twilio's rate, one more
/// than needed, and no more than a window's.
fn batch(round_trip: Duration, rate: u32) -> usize {
  let between = WINDOW / rate.max(1);
  let per_trip = round_trip.as_nanos().div_ceil(between.as_nanos().max(1));
  let wanted = usize::try_from(per_trip).unwrap_or(usize::MAX).saturating_mul(2) + 1;
  wanted.min(usize::try_from(rate).unwrap_or(usize::MAX)).max(1)
}

/// A send let in through its lane's gate (or waiting there); dropping it lets the next one in.
pub struct Entered {
  pacer: Arc<Pacer>,
  key: PaceKey,
  class: Class,
  waiter: Option<oneshot::Receiver<()>>,
}

impl Entered {
  /// Whether the send is at the gate.
  pub fn waits(&self) -> bool {
    self.waiter.is_some()
  }

  /// Waits at the gate until the send is let in, with the call's deadline (if it has begun) standing still.
  pub async fn wait(&mut self) {
    if let Some(waiter) = &mut self.waiter {
      let _paused = crate::call::pause();
      // An error means the sender went with the pacer: there is no one left to wait behind.
      let _ = waiter.await;
      self.waiter = None;
    }
  }
}

impl Drop for Entered {
  fn drop(&mut self) {
    let mut lanes = self.pacer.lanes.locked();
    let Some(lane) = lanes.by_key.get_mut(&self.key) else {
      return;
    };
    // Let in while it waited (and ended before it saw it): it leaves as one that entered.
    if self.waiter.as_mut().is_none_or(|waiter| waiter.try_recv().is_ok()) {
      lane.entered.leave(self.class);
      lane.let_in();
    } else {
      lane.at_gate.leave(self.class);
    }
  }
}

/// A call's place in a lane, from joining until its start; dropping it (the start came, or the call ended)
/// leaves the lane and, from the head, passes the baton.
struct Place<'p> {
  pacer: &'p Arc<Pacer>,
  key: &'p PaceKey,
  class: Class,
  head: bool,
  waiter: Option<oneshot::Receiver<()>>,
  reserved: Option<Reserved>,
}

impl Place<'_> {
  /// Waits to be the head, reserves the next start and waits for it. A start later than `latest` is refused
  /// (and given back as the place drops): the bound needs no timer of its own while the call waits in line.
  async fn take_turn(&mut self, latest: Instant) -> Result<()> {
    if let Some(waiter) = &mut self.waiter {
      // An error means the sender went with the pacer: there is no one left to wait behind.
      let _ = waiter.await;
      self.head = true;
      self.waiter = None;
    }
    let at = match self.pacer.fleet_slot(self.key).await {
      Ok(Some((slot, at))) => {
        self.reserved = Some(Reserved::Fleet(slot, at));
        at
      }
      Err(beyond) => return Err(self.pacer.queue_full(beyond)),
      Ok(None) => {
        let at = self.pacer.local_slot(self.key);
        self.reserved = Some(Reserved::Local(at));
        at
      }
    };
    if at > latest {
      return Err(self.pacer.queue_full(at.saturating_duration_since(Instant::now())));
    }
    // Boxed: only the head sleeps, and the timer's state is not held by every call queued behind it.
    Box::pin(tokio::time::sleep_until(at)).await;
    match self.reserved.take() {
      Some(Reserved::Local(at)) => self.pacer.woke(self.key, at),
      Some(Reserved::Fleet(slot, at)) => self.pacer.woke_to_fleet_start(self.key, slot, at),
      None => {}
    }
    Ok(())
  }
}

impl Drop for Place<'_> {
  fn drop(&mut self) {
    let mut lanes = self.pacer.lanes.locked();
    let Some(lane) = lanes.by_key.get_mut(self.key) else {
      return;
    };
    lane.members.leave(self.class);
    // A baton passed to a call that ended before it saw it is still this call's to pass on.
    let head = self.head || self.waiter.as_mut().is_some_and(|waiter| waiter.try_recv().is_ok());
    if head {
      match self.reserved.take() {
        Some(Reserved::Local(at)) => lane.release(at),
        // The next head takes it, or it is given back with the rest of the stock below.
        Some(Reserved::Fleet(slot, at)) => lane.stock.push_front((slot, at)),
        None => {}
      }
      lane.pass_baton();
    }
    if lane.members.count() == 0 && !lane.stock.is_empty() {
      let unused: Vec<(Slot, Instant)> = lane.stock.drain(..).collect();
      for (_, at) in unused.iter().rev() {
        lane.release(*at);
      }
      if let Some(fleet) = &self.pacer.fleet {
        let (lane, slots) = (
          self.key.lane(),
          unused.into_iter().map(|(slot, _)| slot).collect::<Vec<_>>(),
        );
        fleet.in_background(|fleet| async move { fleet.release(&lane, &slots).await });
      }
    }
  }
}

impl Pacer {
  /// `None` for a rate of 0: no pacing.
  pub fn new(rate: u32, max_queue: Duration, fleet: Option<Arc<Fleet>>) -> Option<Self> {
    (rate > 0).then(|| Self {
      rate,
      max_queue,
      lanes: Mutex::new(Lanes::default()),
      fleet,
    })
  }

  /// The least time between two of a lane's starts under sustained traffic, at the full rate (see [`spacing`]).
  fn spacing(&self) -> Duration {
    spacing(usize::try_from(self.rate).unwrap_or(usize::MAX))
  }

  /// Waits for this call's turn to write to `key`, with the call's deadline standing still. `again`: the call
  /// waited its turn before, and goes back in at the front of the queue.
  pub async fn turn(self: &Arc<Self>, key: &PaceKey, again: bool) -> Result<()> {
    let now = Instant::now();
    let class = crate::call::class();
    let waiter = {
      let mut lanes = self.lanes.locked();
      lanes.sweep(now);
      let lane = lanes.lane(key, self.rate);
      let wait = lane.estimate(now, class);
      if !again && wait > self.max_queue {
        return Err(self.queue_full(wait));
      }
      lane.members.join(class);
      if lane.head {
        let turn = lane.next_turn(class, !again);
        Some(lane.waiting.wait(turn))
      } else {
        lane.head = true;
        None
      }
    };
    let mut place = Place {
      pacer: self,
      key,
      class,
      head: waiter.is_none(),
      waiter,
      reserved: None,
    };
    let _paused = crate::call::pause();
    // The estimate counts whole windows; the smear of sustained traffic moves a start by half a window at most.
    place.take_turn(now + self.max_queue + WINDOW / 2).await
  }

  /// A send's entry to `key`'s lane, before it goes on to its lookups, uploads and turn: a lane lets in two
  /// windows' worth of sends at Twilio's rate (of each class), and the others wait at its gate in turn order
  /// ([`Entered::wait`]), each holding what it was given and nothing it would make, so that a queue of a hundred
  /// thousand is a hundred thousand small entries. A send whose start would lie further than `maxQueueMs` away is
  /// refused here. The send stays in until it ends.
  pub fn enter(self: &Arc<Self>, key: PaceKey) -> Result<Entered> {
    let now = Instant::now();
    let class = crate::call::class();
    let waiter = {
      let mut lanes = self.lanes.locked();
      lanes.sweep(now);
      let lane = lanes.lane(&key, self.rate);
      if lane.opens_for(class) {
        lane.entered.join(class);
        None
      } else {
        let wait = lane.estimate(now, class);
        if wait > self.max_queue {
          return Err(self.queue_full(wait));
        }
        lane.at_gate.join(class);
        let turn = lane.next_turn(class, true);
        Some(lane.gate.wait(turn))
      }
    };
    Ok(Entered {
      pacer: self.clone(),
      key,
      class,
      waiter,
    })
  }

  fn queue_full(&self, wait: Duration) -> Error {
    Error::QueueFull {
      wait,
      max_queue: self.max_queue,
      retry_after: wait.saturating_sub(self.max_queue).max(WINDOW),
    }
  }

  /// The head's start from the fleet: the lane's stock, or a reservation made now for the head and as many of the
  /// calls behind it as a Redis round trip is worth. `Ok(None)`: pace locally (no fleet, or Redis not answering);
  /// `Err`: the next start lies beyond `maxQueueMs`, this long away.
  async fn fleet_slot(self: &Arc<Self>, key: &PaceKey) -> std::result::Result<Option<(Slot, Instant)>, Duration> {
    let Some(fleet) = &self.fleet else {
      return Ok(None);
    };
    let (wanted, busy) = {
      let mut lanes = self.lanes.locked();
      let Some(lane) = lanes.by_key.get_mut(key) else {
        return Ok(None);
      };
      if let Some(stocked) = lane.stock.pop_front() {
        lane.held = true;
        // Refilled once it holds a round trip's worth or less, up to two round trips' worth.
        let cap = batch(fleet.round_trip(), self.rate);
        let wanted = lane
          .members
          .count()
          .saturating_sub(1 + lane.stock.len())
          .min(cap - lane.stock.len().min(cap));
        if lane.stock.len() <= cap / 2 && wanted > 0 && !lane.refilling {
          lane.refilling = true;
          self.refill(key.clone(), wanted);
        }
        return Ok(Some(stocked));
      }
      let now = Instant::now();
      let busy = lane.starts.back().is_some_and(|last| *last + WINDOW > now);
      (lane.members.count().saturating_sub(lane.stock.len()), busy)
    };
    let count = wanted.clamp(1, batch(fleet.round_trip(), self.rate));
    // Boxed: a Redis round trip's state is only needed by a head, never by the thousands queued behind it.
    let Some(reservation) = Box::pin(fleet.reserve(&key.lane(), self.rate, WINDOW, self.spacing(), count)).await else {
      return Ok(None);
    };
    let beyond = reservation.beyond;
    // Mid-campaign (the lane started lately), the head's start was due before Redis said so, with calls waiting
    // behind it: Redis set the pace.
    let first_due = reservation.slots.first().is_some_and(|slot| slot.wait.is_zero());
    if first_due && wanted > 1 && busy && reservation.round_trip > crate::fleet::SLOW_REDIS {
      fleet.slowed_sends(reservation.round_trip);
    }
    match self.stock(key, reservation, true) {
      Some(first) => Ok(Some(first)),
      None => beyond.map_or(Ok(None), Err),
    }
  }

  /// Reserves `wanted` more starts for the lane's stock in the background, while its heads go on with what it holds.
  fn refill(self: &Arc<Self>, key: PaceKey, wanted: usize) {
    let Some(fleet) = &self.fleet else {
      return;
    };
    let pacer = self.clone();
    fleet.in_background(|fleet| async move {
      let reservation = fleet
        .reserve(&key.lane(), pacer.rate, WINDOW, pacer.spacing(), wanted)
        .await;
      match reservation {
        Some(reservation) => drop(pacer.stock(&key, reservation, false)),
        None => pacer.refilled(&key),
      }
    });
  }

  /// The refill came back empty-handed.
  fn refilled(&self, key: &PaceKey) {
    if let Some(lane) = self.lanes.locked().by_key.get_mut(key) {
      lane.refilling = false;
    }
  }

  /// Puts a reservation's starts in the lane's stock (and its local log: should Redis stop answering, this
  /// process's own recent starts still count); for the head, takes the first. Starts no one in the lane is left
  /// to take are given back.
  fn stock(&self, key: &PaceKey, reservation: Reservation, for_head: bool) -> Option<(Slot, Instant)> {
    let mut lanes = self.lanes.locked();
    let lane = lanes.by_key.get_mut(key)?;
    if !for_head {
      lane.refilling = false;
    }
    let Reservation { slots, .. } = reservation;
    let cap = self
      .fleet
      .as_ref()
      .map_or(1, |fleet| batch(fleet.round_trip(), self.rate));
    let mut first = None;
    let mut unused = Vec::new();
    for slot in slots {
      // `held` is set by the first: the head's own reservation.
      let at = crate::call::after(slot.wait);
      if for_head && first.is_none() {
        lane.record(at);
        first = Some((slot, at));
      } else if lane.members.count() > usize::from(lane.held) + lane.stock.len() && lane.stock.len() < cap {
        lane.log(at);
        lane.stock.push_back((slot, at));
      } else {
        unused.push(slot);
      }
    }
    if !unused.is_empty() {
      if let Some(fleet) = &self.fleet {
        let lane = key.lane();
        fleet.in_background(|fleet| async move { fleet.release(&lane, &unused).await });
      }
    }
    first
  }

  /// The head reserved `at` and woke to it now.
  fn woke(&self, key: &PaceKey, at: Instant) {
    if let Some(lane) = self.lanes.locked().by_key.get_mut(key) {
      lane.started(at, Instant::now());
    }
  }

  /// The head woke now to the start the fleet reserved for `at`: one made late counts from then in Redis too.
  fn woke_to_fleet_start(&self, key: &PaceKey, slot: Slot, at: Instant) {
    let late = Instant::now().saturating_duration_since(at);
    let Some(fleet) = self.fleet.as_ref().filter(|_| late > LATE_IN_REDIS) else {
      return;
    };
    let (lane, rate) = (key.lane(), self.rate);
    fleet.in_background(|fleet| async move { fleet.started_late(&lane, &slot, late, rate).await });
  }

  fn local_slot(&self, key: &PaceKey) -> Instant {
    let now = Instant::now();
    let mut lanes = self.lanes.locked();
    lanes.lane(key, self.rate).reserve(now)
  }

  /// What Twilio answered a paced write: a 429 slows the key's lane, a success speeds it back up.
  pub fn observe(&self, key: &PaceKey, rate_limited: bool) {
    let mut lanes = self.lanes.locked();
    if let Some(lane) = lanes.by_key.get_mut(key) {
      if rate_limited {
        lane.slowed(Instant::now());
      } else {
        lane.sped_up();
      }
    }
  }

  /// The lane's current rate (for tests of the rate's adaptation).
  #[cfg(test)]
  fn rate_of(&self, key: &PaceKey) -> Option<f64> {
    self.lanes.locked().by_key.get(key).map(|lane| lane.rate)
  }

  /// How many keys hold a lane (for tests of the memory bound).
  #[cfg(test)]
  fn keys(&self) -> usize {
    self.lanes.locked().by_key.len()
  }
}

#[cfg(test)]
mod tests {
  use std::sync::Mutex as StdMutex;

  use super::*;

  const QUEUE: Duration = Duration::from_secs(900);

  fn pacer(rate: u32) -> Arc<Pacer> {
    Arc::new(Pacer::new(rate, QUEUE, None).unwrap())
  }

  /// Starts `n` calls on `key` at once (call `i` asking `i`-th) and answers when each got its turn.
  async fn turns(pacer: &Arc<Pacer>, key: &PaceKey, n: usize) -> Vec<(usize, Duration)> {
    let start = Instant::now();
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..n {
      let (pacer, key, seen) = (pacer.clone(), key.clone(), seen.clone());
      tasks.push(tokio::spawn(async move {
        pacer.turn(&key, false).await.unwrap();
        seen.lock().unwrap().push((i, Instant::now() - start));
      }));
      tokio::task::yield_now().await;
    }
    for task in tasks {
      task.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    seen
  }

  #[tokio::test(start_paused = true)]
  async fn a_burst_starts_at_most_rate_per_window_in_the_order_asked() {
    let pacer = pacer(30);
    let seen = turns(&pacer, &PaceKey::Conversation("CH1".into()), 150).await;
    let order: Vec<usize> = seen.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, (0..150).collect::<Vec<_>>(), "in the order asked");
    for (i, at) in &seen {
      let window = WINDOW * u32::try_from(i / 30).unwrap();
      if *i < 30 {
        assert_eq!(*at, Duration::ZERO, "the first window's burst goes at once");
      } else {
        // Sustained traffic smears the bursts: at least half a start apart, each window's within its first half.
        assert!(*at >= window && *at < window + WINDOW / 2, "call {i} at {at:?}");
      }
    }
    for pair in seen[30..].windows(2) {
      assert!(
        pair[1].1 - pair[0].1 >= spacing(30) - Duration::from_millis(1),
        "{pair:?}"
      );
    }
    for pair in seen.windows(31) {
      assert!(pair[30].1 - pair[0].1 >= WINDOW, "at most 30 starts in any window");
    }
  }

  #[tokio::test(start_paused = true)]
  async fn keys_are_paced_separately_and_a_quiet_key_starts_at_once() {
    let pacer = pacer(2);
    let busy = PaceKey::Conversation("CH1".into());
    let start = Instant::now();
    pacer.turn(&busy, false).await.unwrap();
    pacer.turn(&busy, false).await.unwrap();
    pacer.turn(&PaceKey::Service, false).await.unwrap();
    assert_eq!(Instant::now(), start, "two starts and another key's: no wait");
    pacer.turn(&busy, false).await.unwrap();
    assert_eq!(Instant::now(), start + WINDOW);
  }

  #[tokio::test(start_paused = true)]
  async fn a_call_that_gives_up_while_queued_costs_no_one_a_slot() {
    let pacer = pacer(1);
    let key = PaceKey::Service;
    pacer.turn(&key, false).await.unwrap();
    let start = Instant::now();
    // Ten calls queue behind the head and end before their turn (their caller timed out).
    for _ in 0..10 {
      let turn = pacer.turn(&key, false);
      assert!(tokio::time::timeout(Duration::from_millis(10), turn).await.is_err());
    }
    pacer.turn(&key, false).await.unwrap();
    assert_eq!(
      Instant::now(),
      start + WINDOW,
      "the next start is the next slot, not the eleventh"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn a_call_that_waited_before_goes_back_in_at_the_front() {
    let pacer = pacer(1);
    let key = PaceKey::Service;
    pacer.turn(&key, false).await.unwrap();
    let order = Arc::new(StdMutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (name, again) in [("first", false), ("second", false), ("retry", true)] {
      let (pacer, key, order) = (pacer.clone(), key.clone(), order.clone());
      tasks.push(tokio::spawn(async move {
        pacer.turn(&key, again).await.unwrap();
        order.lock().unwrap().push(name);
      }));
      tokio::task::yield_now().await;
    }
    for task in tasks {
      task.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), ["first", "retry", "second"]);
  }

  #[tokio::test(start_paused = true)]
  async fn a_call_asked_earlier_goes_first_even_when_it_joins_later() {
    let pacer = pacer(1);
    let key = PaceKey::Service;
    pacer.turn(&key, false).await.unwrap();
    let order = Arc::new(StdMutex::new(Vec::new()));
    let call = |name: &'static str, lookup: Duration| {
      let (pacer, key, order) = (pacer.clone(), key.clone(), order.clone());
      crate::call::within(QUEUE, async move {
        tokio::time::sleep(lookup).await;
        pacer.turn(&key, false).await?;
        order.lock().unwrap().push(name);
        Ok(())
      })
    };
    // A call holds the head, waiting for the next window; the earlier call's lookup takes longer, so it joins the
    // line after the later one.
    let head = call("head", Duration::ZERO);
    let earlier = call("asked first", Duration::from_millis(20));
    let later = call("asked second", Duration::from_millis(10));
    let (head, earlier, later) = tokio::join!(head, earlier, later);
    assert!(head.is_ok() && earlier.is_ok() && later.is_ok());
    assert_eq!(*order.lock().unwrap(), ["head", "asked first", "asked second"]);
  }

  /// Spawns a call of `class` named `name` that takes its turn on `key` and notes it in `order`.
  fn classed_call(
    pacer: &Arc<Pacer>,
    order: &Arc<StdMutex<Vec<String>>>,
    class: Class,
    name: String,
  ) -> tokio::task::JoinHandle<()> {
    let (pacer, order) = (pacer.clone(), order.clone());
    tokio::spawn(crate::call::classed(class, async move {
      pacer.turn(&PaceKey::Service, false).await.unwrap();
      order.lock().unwrap().push(name);
    }))
  }

  #[tokio::test(start_paused = true)]
  async fn an_interactive_send_goes_ahead_of_a_queued_campaign() {
    let pacer = pacer(1);
    let order = Arc::new(StdMutex::new(Vec::new()));
    let mut calls = Vec::new();
    for i in 0..6 {
      calls.push(classed_call(&pacer, &order, Class::Bulk, format!("bulk {i}")));
      tokio::task::yield_now().await;
    }
    calls.push(classed_call(&pacer, &order, Class::Interactive, "code".to_string()));
    for call in calls {
      call.await.unwrap();
    }
    // The first campaign send started at once and the second holds the head, waiting for the next window; the
    // code goes next, before the four that queued before it.
    assert_eq!(order.lock().unwrap()[..3], ["bulk 0", "bulk 1", "code"]);
  }

  #[tokio::test(start_paused = true)]
  async fn a_campaign_keeps_one_start_in_five_however_many_interactive_sends_wait() {
    let pacer = pacer(1);
    let order = Arc::new(StdMutex::new(Vec::new()));
    let mut calls = Vec::new();
    let names = ["head", "next"].map(|n| (Class::Interactive, n.to_string()));
    let bulk = (0..2).map(|i| (Class::Bulk, format!("bulk {i}")));
    let live = (0..10).map(|i| (Class::Interactive, format!("live {i}")));
    for (class, name) in names.into_iter().chain(bulk).chain(live) {
      calls.push(classed_call(&pacer, &order, class, name));
      tokio::task::yield_now().await;
    }
    for call in calls {
      call.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    let at = |name: &str| order.iter().position(|n| n == name).unwrap();
    // Behind the head waiting for its window: four interactive turns, then the campaign's, and again.
    assert_eq!((at("bulk 0"), at("bulk 1")), (6, 11), "{order:?}");
  }

  #[tokio::test(start_paused = true)]
  async fn an_interactive_send_is_not_refused_for_a_long_campaign_queued_before_it() {
    let pacer = Arc::new(Pacer::new(1, WINDOW * 3, None).unwrap());
    let mut campaign = Vec::new();
    for _ in 0..8 {
      let pacer = pacer.clone();
      campaign.push(tokio::spawn(crate::call::classed(Class::Bulk, async move {
        pacer.turn(&PaceKey::Service, false).await.is_ok()
      })));
      tokio::task::yield_now().await;
    }
    let bulk = crate::call::classed(Class::Bulk, pacer.turn(&PaceKey::Service, false));
    assert!(
      matches!(bulk.await, Err(Error::QueueFull { .. })),
      "another campaign send would wait too long"
    );
    pacer.turn(&PaceKey::Service, false).await.unwrap();
    let sent = futures::future::join_all(campaign).await;
    assert!(sent.into_iter().filter(|s| *s.as_ref().unwrap()).count() >= 3);
  }

  #[tokio::test(start_paused = true)]
  async fn a_start_past_max_queue_is_refused_before_it_queues_with_when_to_retry() {
    let pacer = Arc::new(Pacer::new(2, WINDOW * 2, None).unwrap());
    let key = PaceKey::Service;
    let queued: Vec<_> = (0..6)
      .map(|_| {
        let (pacer, key) = (pacer.clone(), key.clone());
        tokio::spawn(async move { pacer.turn(&key, false).await })
      })
      .collect();
    tokio::task::yield_now().await;
    let error = pacer.turn(&key, false).await.unwrap_err();
    let Error::QueueFull { retry_after, .. } = &error else {
      panic!("{error:?}")
    };
    assert_eq!(error.code(), "QUEUE_FULL");
    assert!(*retry_after >= WINDOW, "{retry_after:?}");
    for task in queued {
      assert!(task.await.unwrap().is_ok(), "six starts in three windows");
    }
    for _ in 0..6 {
      assert!(
        pacer.turn(&key, true).await.is_ok(),
        "a call already in line is never refused"
      );
    }
  }

  #[test]
  fn a_head_yet_to_wake_to_its_start_is_counted_once_in_the_estimate() {
    let now = Instant::now();
    let mut lane = Lane::new(1);
    lane.head = true;
    lane.members.set(1);
    // The head reserved the start at hand; its timer has yet to wake it (the timer's tick is a millisecond).
    assert_eq!(lane.reserve(now), now);
    assert_eq!(lane.estimate(now, Class::Bulk), WINDOW, "one call ahead, not two");
    assert_eq!(lane.estimate(now + WINDOW / 2, Class::Bulk), WINDOW);
  }

  #[tokio::test(start_paused = true)]
  async fn waiting_in_the_queue_does_not_count_against_the_call_deadline() {
    let pacer = pacer(1);
    let key = PaceKey::Service;
    let call = async {
      for _ in 0..5 {
        pacer.turn(&key, false).await?;
      }
      Ok(())
    };
    let within = crate::call::within(Duration::from_millis(100), call).await;
    assert!(
      within.is_ok(),
      "four windows queued, no time of the call's own used: {within:?}"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn a_sixth_of_the_rate_in_429s_within_a_window_halves_the_rate_once_a_window_and_successes_raise_it_back() {
    let pacer = pacer(30);
    let key = PaceKey::Service;
    pacer.turn(&key, false).await.unwrap();
    for _ in 0..5 {
      pacer.observe(&key, true);
    }
    assert_eq!(pacer.rate_of(&key), Some(30.0), "five 429s: late arrivals, retried");
    for _ in 0..8 {
      pacer.observe(&key, true);
    }
    assert_eq!(pacer.rate_of(&key), Some(15.0), "thirteen 429s in one window: one cut");
    tokio::time::advance(WINDOW).await;
    for _ in 0..6 {
      pacer.observe(&key, true);
    }
    assert_eq!(pacer.rate_of(&key), Some(7.5));
    for _ in 0..500 {
      pacer.observe(&key, false);
    }
    assert_eq!(pacer.rate_of(&key), Some(30.0), "back to Twilio's rate, not above it");
  }

  #[tokio::test(start_paused = true)]
  async fn a_slowed_lane_starts_fewer_per_window_spread_evenly() {
    let pacer = pacer(30);
    let key = PaceKey::Service;
    pacer.turn(&key, false).await.unwrap();
    for _ in 0..6 {
      pacer.observe(&key, true);
    }
    tokio::time::advance(WINDOW).await;
    let seen = turns(&pacer, &key, 30).await;
    let first_window = seen.iter().filter(|(_, at)| *at < WINDOW).count();
    assert_eq!(first_window, 15);
    let gaps: Vec<Duration> = seen.windows(2).map(|pair| pair[1].1 - pair[0].1).collect();
    // Evenly, to the timer's millisecond.
    let even = |gap: &Duration| gap.abs_diff(WINDOW / 15) < Duration::from_millis(1);
    assert!(gaps.iter().all(even), "{gaps:?}");
  }

  #[tokio::test(start_paused = true)]
  async fn memory_follows_the_keys_written_to_lately() {
    let pacer = pacer(30);
    for i in 0..5000 {
      pacer
        .turn(&PaceKey::Conversation(format!("CH{i}")), false)
        .await
        .unwrap();
      if i % 1000 == 999 {
        tokio::time::advance(WINDOW * 2).await;
      }
    }
    assert!(pacer.keys() <= 2048, "{} keys kept", pacer.keys());
  }

  #[test]
  fn a_redis_further_away_is_asked_for_more_starts_at_once_up_to_a_window() {
    let between = WINDOW / 30;
    assert_eq!(
      batch(Duration::ZERO, 30),
      1,
      "a near Redis: one start a round trip, as without batches"
    );
    assert_eq!(batch(between, 30), 3, "two round trips' worth, and one more");
    assert_eq!(batch(Duration::from_millis(50), 30), 5);
    assert_eq!(batch(Duration::from_millis(200), 30), 13);
    assert_eq!(batch(Duration::from_secs(5), 30), 30, "never more than a window's");
  }

  /// Enters `n` sends of `class` on the service's lane, in order: the ones let in at once, and the others.
  fn enter_all(pacer: &Arc<Pacer>, class: Class, n: usize) -> (Vec<Entered>, Vec<Entered>) {
    let entries = (0..n).map(|_| crate::call::classed_now(class, || pacer.enter(PaceKey::Service)).unwrap());
    entries.partition(|entered| entered.waiter.is_none())
  }

  fn let_in(entered: &mut Entered) -> bool {
    let waiter = entered.waiter.as_mut().unwrap();
    let heard = waiter.try_recv().is_ok();
    if heard {
      entered.waiter = None;
    }
    heard
  }

  #[test]
  fn a_lane_lets_in_two_windows_of_sends_and_the_rest_wait_at_its_gate_in_the_order_asked() {
    let pacer = pacer(2);
    let (mut inside, mut waiting) = enter_all(&pacer, Class::Interactive, 10);
    assert_eq!(
      (inside.len(), waiting.len()),
      (4, 6),
      "two windows' worth at 2 a window"
    );
    assert!(waiting.iter_mut().all(|entered| !let_in(entered)));
    // Each send that ends lets the next in line in, and no other.
    for asked in 0..waiting.len() {
      drop(inside.remove(0));
      let mut next = waiting.remove(0);
      assert!(let_in(&mut next), "the send asked {asked}th at the gate");
      assert!(waiting.iter_mut().all(|entered| !let_in(entered)));
      inside.push(next);
    }
  }

  #[test]
  fn an_interactive_send_is_let_in_past_a_campaign_that_fills_the_lane() {
    let pacer = pacer(2);
    let (_campaign, mut behind) = enter_all(&pacer, Class::Bulk, 6);
    assert_eq!(behind.len(), 2);
    let (code, _) = enter_all(&pacer, Class::Interactive, 1);
    assert_eq!(
      code.len(),
      1,
      "let in at once, ahead of the campaign's sends at the gate"
    );
    drop(code);
    assert!(
      !let_in(&mut behind[0]),
      "the lane still holds its two windows of the campaign"
    );
  }

  #[test]
  fn a_send_that_gives_up_at_the_gate_costs_no_one_a_place() {
    let pacer = pacer(1);
    let (mut inside, mut waiting) = enter_all(&pacer, Class::Interactive, 5);
    assert_eq!((inside.len(), waiting.len()), (2, 3));
    drop(waiting.remove(0));
    drop(inside.pop());
    assert!(let_in(&mut waiting[0]), "the next in line, past the one that left");
  }

  #[test]
  fn a_send_whose_start_lies_beyond_the_queue_bound_is_refused_at_the_gate() {
    let pacer = Arc::new(Pacer::new(1, WINDOW * 3, None).unwrap());
    let (_inside, _waiting) = enter_all(&pacer, Class::Interactive, 6);
    let refused = pacer.enter(PaceKey::Service);
    assert!(
      matches!(refused, Err(Error::QueueFull { .. })),
      "four at the gate ahead, at one a window"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn a_start_made_late_holds_the_next_window_back_by_as_much() {
    let mut lane = Lane::new(2);
    let now = Instant::now();
    let first = lane.reserve(now);
    let late = first + Duration::from_millis(40);
    lane.started(first, late);
    lane.reserve(late);
    assert_eq!(
      lane.reserve(late),
      late + WINDOW,
      "a window after the late start, not after its reservation"
    );
  }

  #[test]
  fn a_rate_of_zero_means_no_pacing() {
    assert!(Pacer::new(0, QUEUE, None).is_none());
  }
}
