//! The trial's step log, shared by all its endpoints (and threads), which hands out labels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use std::collections::BTreeSet;

use crate::capabilities::Need;
use crate::record::{ClientInfo, Knob, Step};
use crate::verb::Verb;

/// Steps in the order they finished, and per (actor, verb) how many there were, so that the
/// third read of the client is `client.read#3` whatever else happened in between.
#[derive(Clone)]
pub struct StepLog(Arc<Mutex<Inner>>);

struct Inner {
    start: Instant,
    steps: Vec<Step>,
    knobs: Vec<Knob>,
    counts: HashMap<(String, Verb), u32>,
    /// What the trial used of the platform (see [`crate::Trial::uses`]).
    used: BTreeSet<Need>,
    /// The runtime client that made the client's steps, if one did.
    client: Option<ClientInfo>,
}

impl StepLog {
    pub fn new(start: Instant) -> StepLog {
        StepLog(Arc::new(Mutex::new(Inner {
            start,
            steps: Vec::new(),
            knobs: Vec::new(),
            counts: HashMap::new(),
            used: BTreeSet::new(),
            client: None,
        })))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the trial started.
    pub fn start(&self) -> Instant {
        self.inner().start
    }

    /// Microseconds from the start of the trial to `t`.
    pub fn micros_since_start(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.inner().start).as_micros() as u64
    }

    /// Labels the next `verb` of `actor`, builds the step with that label and appends it.
    pub fn push(&self, actor: &str, verb: Verb, build: impl FnOnce(String) -> Step) -> Step {
        let mut inner = self.inner();
        let n = inner.counts.entry((actor.to_string(), verb)).or_insert(0);
        *n += 1;
        let step = build(format!("{actor}.{verb}#{n}"));
        inner.steps.push(step.clone());
        step
    }

    /// Notes that the trial used `need` of the platform.
    pub fn uses(&self, need: Need) {
        self.inner().used.insert(need);
    }

    /// Everything the trial used of the platform so far.
    pub fn used(&self) -> Vec<Need> {
        self.inner().used.iter().copied().collect()
    }

    /// Records the runtime client that makes the client's steps (the first one, if several).
    pub fn client(&self, api: &str, runtime: &str) {
        self.inner().client.get_or_insert_with(|| ClientInfo {
            api: api.to_string(),
            runtime: runtime.to_string(),
        });
    }

    /// The runtime client recorded, if any.
    pub fn client_info(&self) -> Option<ClientInfo> {
        self.inner().client.clone()
    }

    /// Records a setting the trial changed from the default.
    pub fn knob(&self, knob: Knob) {
        self.inner().knobs.push(knob);
    }

    /// Every setting changed so far.
    pub fn knobs(&self) -> Vec<Knob> {
        self.inner().knobs.clone()
    }

    /// All steps so far.
    pub fn steps(&self) -> Vec<Step> {
        self.inner().steps.clone()
    }
}
