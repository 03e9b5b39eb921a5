//! A thread-safe cache of messages ordered by sequence number, free of
//! duplicates, that wakes the task draining it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use thiserror::Error;
use tokio::sync::Notify;

/// A message about one sequence.
pub trait Sequenced {
    /// The sequence number it is about: the cache's order and identity.
    fn sequence(&self) -> u64;
}

/// A message refused because the cache already holds one for its sequence.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("the {cache} cache already holds a message for sequence {sequence}")]
pub struct Duplicate<T> {
    /// The cache's name.
    pub cache: &'static str,
    /// The sequence.
    pub sequence: u64,
    /// The refused message, handed back.
    pub message: T,
}

/// Messages by sequence number, lowest first, at most one per sequence.
#[derive(Debug)]
pub struct PriorityCache<T> {
    name: &'static str,
    messages: Mutex<BTreeMap<u64, T>>,
    changed: Notify,
    pushes: AtomicU64,
    closed: AtomicBool,
}

impl<T: Sequenced> PriorityCache<T> {
    /// An empty cache; `name` appears in errors and logs.
    pub fn new(name: &'static str) -> Self {
        PriorityCache {
            name,
            messages: Mutex::new(BTreeMap::new()),
            changed: Notify::new(),
            pushes: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The cache's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Adds `message`, unless one for its sequence is already here.
    pub fn push(&self, message: T) -> Result<(), Duplicate<T>> {
        let sequence = message.sequence();
        {
            let mut messages = self.messages.lock();
            if messages.contains_key(&sequence) {
                return Err(Duplicate { cache: self.name, sequence, message });
            }
            messages.insert(sequence, message);
        }
        self.pushes.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        Ok(())
    }

    /// Takes the message of the lowest sequence, if any.
    pub fn pop(&self) -> Option<T> {
        self.messages.lock().pop_first().map(|(_, message)| message)
    }

    /// Takes the message of `sequence`, if here.
    pub fn remove(&self, sequence: u64) -> Option<T> {
        self.messages.lock().remove(&sequence)
    }

    /// Whether a message for `sequence` is here.
    pub fn contains(&self, sequence: u64) -> bool {
        self.messages.lock().contains_key(&sequence)
    }

    /// The sequences held, lowest first.
    pub fn sequences(&self) -> Vec<u64> {
        self.messages.lock().keys().copied().collect()
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.messages.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.messages.lock().is_empty()
    }

    /// Takes the message of the lowest sequence, waiting for one; `None`
    /// once the cache is closed.
    pub async fn next(&self) -> Option<T> {
        loop {
            // Registered before looking, so that a push in between is not
            // missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(message) = self.pop() {
                return Some(message);
            }
            changed.await;
        }
    }

    /// How many messages were pushed so far: a mark for
    /// [`pushed_since`](Self::pushed_since).
    pub fn pushes(&self) -> u64 {
        self.pushes.load(Ordering::SeqCst)
    }

    /// Waits until a message was pushed after [`pushes`](Self::pushes)
    /// returned `mark`, or the cache is closed: how a drainer that keeps
    /// messages in the cache while they wait sleeps between passes.
    pub async fn pushed_since(&self, mark: u64) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.closed.load(Ordering::SeqCst) || self.pushes() != mark {
                return;
            }
            changed.await;
        }
    }

    /// Ends [`next`](Self::next) for every waiting and later drainer; the
    /// messages held stay (they are recorded elsewhere and rebuilt at the
    /// next start).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    struct Message(u64, &'static str);

    impl Sequenced for Message {
        fn sequence(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn messages_come_out_lowest_sequence_first() {
        let cache = PriorityCache::new("commit");
        for sequence in [7, 3, 11, 1, 5] {
            cache.push(Message(sequence, "proof")).unwrap();
        }
        assert_eq!(cache.sequences(), [1, 3, 5, 7, 11]);
        assert_eq!(cache.remove(5), Some(Message(5, "proof")));
        let order: Vec<u64> = std::iter::from_fn(|| cache.pop()).map(|m| m.0).collect();
        assert_eq!(order, [1, 3, 7, 11]);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_second_message_for_a_sequence_is_refused_and_handed_back() {
        let cache = PriorityCache::new("reveal");
        cache.push(Message(4, "first")).unwrap();
        let refused = cache.push(Message(4, "second")).unwrap_err();
        assert_eq!(refused.message, Message(4, "second"));
        assert_eq!(refused.to_string(), "the reveal cache already holds a message for sequence 4");
        assert_eq!(cache.pop(), Some(Message(4, "first")));
        // Once taken out, the sequence may come back (a later round).
        cache.push(Message(4, "again")).unwrap();
        assert!(cache.contains(4));
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn a_waiting_drainer_wakes_on_a_push_and_on_close() {
        let cache = Arc::new(PriorityCache::new("watch"));
        let drainer = tokio::spawn({
            let cache = cache.clone();
            async move { (cache.next().await, cache.next().await) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        cache.push(Message(9, "tx")).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        cache.close();
        let (first, second) = tokio::time::timeout(Duration::from_secs(5), drainer).await.unwrap().unwrap();
        assert_eq!((first, second), (Some(Message(9, "tx")), None));
    }

    #[tokio::test]
    async fn a_drainer_keeping_messages_sleeps_until_the_next_push() {
        let cache = Arc::new(PriorityCache::new("watch"));
        cache.push(Message(1, "kept")).unwrap();
        let mark = cache.pushes();
        let waiter = tokio::spawn({
            let cache = cache.clone();
            async move { cache.pushed_since(mark).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "nothing new was pushed");
        cache.push(Message(2, "new")).unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        // A push before the wait began is not missed.
        cache.push(Message(3, "early")).unwrap();
        tokio::time::timeout(Duration::from_secs(5), cache.pushed_since(mark)).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_producers_and_drainers_deliver_each_message_once() {
        let cache = Arc::new(PriorityCache::new("commit"));
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let cache = cache.clone();
                tokio::spawn(async move {
                    let mut refused = 0;
                    for i in 0..500u64 {
                        // Every sequence is pushed by two producers: one of
                        // them is refused unless the first was taken already.
                        if cache.push(Message((p / 2) * 500 + i, "m")).is_err() {
                            refused += 1;
                        }
                        if i % 50 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    refused
                })
            })
            .collect();
        let drainers: Vec<_> = (0..3)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while let Some(message) = cache.next().await {
                        seen.push(message.0);
                    }
                    seen
                })
            })
            .collect();
        let mut refused = 0;
        for producer in producers {
            refused += producer.await.unwrap();
        }
        while !cache.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cache.close();
        let mut delivered = Vec::new();
        for drainer in drainers {
            delivered.extend(drainer.await.unwrap());
        }
        // Every sequence arrives at least once; a message is never handed to
        // two drainers: deliveries and refusals add up to the pushes.
        let distinct: BTreeSet<u64> = delivered.iter().copied().collect();
        assert_eq!(distinct, (0..1000).collect());
        assert_eq!(delivered.len() + refused, 2000);
    }
}
