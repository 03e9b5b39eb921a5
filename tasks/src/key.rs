//! Task identities: `s<sequence>-<kind>-<level>-<index>`, e.g. `s7-node-1-0`:
//! safe in URL paths, file names and metric labels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a task proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A batch of users of one tier (level 0).
    Batch,
    /// An aggregation node of node level `l` (the nodes over batches are
    /// level 0).
    Node,
    /// The statement proof and the final (EVM) proof, from the top node.
    Final,
}

impl TaskKind {
    /// Every kind, in the order proofs are made.
    pub const ALL: [TaskKind; 3] = [TaskKind::Batch, TaskKind::Node, TaskKind::Final];

    /// The kind's name in task ids, the database and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Batch => "batch",
            TaskKind::Node => "node",
            TaskKind::Final => "final",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| KeyError(text.to_string()))
    }
}

/// One task of one sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskKey {
    /// The sequence it belongs to.
    pub sequence: u64,
    /// What it proves.
    pub kind: TaskKind,
    /// Its level: 0 for batches, the node level for nodes, the number of
    /// node levels for the final task.
    pub level: u32,
    /// Its index within the level.
    pub index: u32,
}

/// A task id that does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("'{0}' is not a task id: expected s<sequence>-<batch|node|final>-<level>-<index>")]
pub struct KeyError(pub String);

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}-{}-{}-{}", self.sequence, self.kind, self.level, self.index)
    }
}

impl FromStr for TaskKey {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || KeyError(text.to_string());
        let mut parts = text.split('-');
        let sequence = parts.next().and_then(|s| s.strip_prefix('s')).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let kind = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let level = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let index = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(TaskKey { sequence, kind, level, index })
    }
}

impl TryFrom<String> for TaskKey {
    type Error = KeyError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<TaskKey> for String {
    fn from(key: TaskKey) -> String {
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let key = TaskKey { sequence: 12, kind: TaskKind::Node, level: 2, index: 5 };
        assert_eq!(key.to_string(), "s12-node-2-5");
        assert_eq!("s12-node-2-5".parse::<TaskKey>(), Ok(key));
    }

    #[test]
    fn bad_ids_are_refused() {
        for text in [
            "",
            "12-node-2-5",
            "s12-leaf-2-5",
            "s12-empty-0-0",
            "s12-node-2",
            "s12-node-2-5-1",
            "s-1-node-2-5",
            "s1-node-x-0",
            "s1/node/1/0",
        ] {
            assert_eq!(text.parse::<TaskKey>(), Err(KeyError(text.to_string())), "{text}");
        }
    }
}
