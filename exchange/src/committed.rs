//! A snapshot committed to a tree: every account gets a secret nonce and a
//! leaf, the leaves a tree of the shape's height, and the tree a statement.

use anyhow::{Result, ensure};
use rand::Rng;
use zkpor_circuits::Shape;
use zkpor_circuits::account::{AccountLeaf, Nonce, draw_nonce};
use zkpor_circuits::batch::BatchWitness;
use zkpor_circuits::layout::TreeLayout;
use zkpor_circuits::merkle::AccountTree;
use zkpor_circuits::statement::Statement;
use zkpor_snapshot::{Account, Snapshot};

/// A snapshot with its account tree and statement.
pub struct CommittedSnapshot {
    shape: Shape,
    snapshot: Snapshot,
    nonces: Vec<Nonce>,
    leaves: Vec<AccountLeaf>,
    tree: AccountTree,
    statement: Statement,
}

impl CommittedSnapshot {
    /// Draws a nonce per account (in file order) and builds the tree. The
    /// snapshot must fit the shape.
    pub fn new<R: Rng + ?Sized>(snapshot: Snapshot, shape: Shape, rng: &mut R) -> Result<Self> {
        shape.check_fits(snapshot.assets().len(), snapshot.accounts().len())?;
        let slots = shape.assets();
        let (nonces, leaves): (Vec<Nonce>, Vec<AccountLeaf>) = snapshot
            .accounts()
            .iter()
            .map(|account| {
                let (nonce, id_hash) = draw_nonce(&account.id, rng);
                (nonce, leaf_of(account, id_hash, slots))
            })
            .unzip();
        let tree = AccountTree::new(leaves.iter().map(AccountLeaf::hash).collect(), slots, shape.depth());
        let statement = Statement {
            root: tree.root(),
            account_count: leaves.len() as u64,
            prices: padded(snapshot.unit_prices(), slots),
            equity: padded(snapshot.equity_totals(), slots),
            debt: padded(snapshot.debt_totals(), slots),
        };
        Ok(CommittedSnapshot { shape, snapshot, nonces, leaves, tree, statement })
    }

    /// The shape the tree is built for.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The validated snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The statement the tree proves.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The account tree.
    pub fn tree(&self) -> &AccountTree {
        &self.tree
    }

    /// Each account's secret nonce, in account order.
    pub fn nonces(&self) -> &[Nonce] {
        &self.nonces
    }

    /// Each account's leaf, in account order.
    pub fn leaves(&self) -> &[AccountLeaf] {
        &self.leaves
    }

    /// The proof layout of this tree.
    pub fn layout(&self) -> TreeLayout {
        TreeLayout::new(self.shape, self.leaves.len())
    }

    /// The witness of batch `index`.
    pub fn batch_witness(&self, index: usize) -> Result<BatchWitness> {
        let size = self.shape.batch_size();
        let start = index * size;
        ensure!(start < self.leaves.len().max(1), "batch {index} is past the last account");
        let end = (start + size).min(self.leaves.len());
        BatchWitness::new(&self.shape, &self.statement.prices, &self.leaves[start..end])
    }
}

/// The leaf of an account for `slots` asset slots.
pub fn leaf_of(account: &Account, id_hash: zkpor_circuits::Hash, slots: usize) -> AccountLeaf {
    let width = slots.max(account.balances.asset_count());
    let (mut equity, mut debt) = (vec![0; width], vec![0; width]);
    for (asset, units) in account.balances.nonzero() {
        equity[asset] = units.max(0).unsigned_abs();
        debt[asset] = units.min(0).unsigned_abs();
    }
    AccountLeaf { id_hash, equity, debt }
}

/// `values` followed by zeros up to `slots` entries.
pub fn padded(values: &[u64], slots: usize) -> Vec<u64> {
    values.iter().copied().chain(std::iter::repeat(0)).take(slots.max(values.len())).collect()
}
