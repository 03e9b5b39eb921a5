//! One account's balances, kept sparsely: a user of an exchange that lists
//! hundreds of assets holds a handful, so only the non-zero balances are
//! stored (16 bytes each instead of 8 bytes per listed asset).

/// One account's balances in smallest units, by asset index: negative is
/// debt, positive equity, and every asset not listed is zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    /// How many assets the balances are over (the snapshot's asset count).
    assets: usize,
    /// The non-zero balances, by strictly ascending asset index.
    nonzero: Box<[(u32, i64)]>,
}

impl Balances {
    /// The balances of a dense list: entry `i` is asset `i`'s balance.
    pub fn from_dense(balances: &[i64]) -> Balances {
        let nonzero = balances
            .iter()
            .enumerate()
            .filter(|&(_, &units)| units != 0)
            .map(|(asset, &units)| (u32::try_from(asset).expect("fewer than 2^32 assets"), units))
            .collect();
        Balances { assets: balances.len(), nonzero }
    }

    /// How many assets the balances are over, zeros included.
    pub fn asset_count(&self) -> usize {
        self.assets
    }

    /// The balance of asset `asset` (zero when the account holds none).
    ///
    /// # Panics
    /// If `asset` is not below [`Balances::asset_count`].
    pub fn get(&self, asset: usize) -> i64 {
        assert!(asset < self.assets, "asset {asset} of balances over {} assets", self.assets);
        match self.nonzero.binary_search_by_key(&asset, |&(index, _)| index as usize) {
            Ok(position) => self.nonzero[position].1,
            Err(_) => 0,
        }
    }

    /// The non-zero balances as `(asset index, balance)`, by ascending asset
    /// index.
    pub fn nonzero(&self) -> impl ExactSizeIterator<Item = (usize, i64)> + '_ {
        self.nonzero.iter().map(|&(asset, units)| (asset as usize, units))
    }

    /// Every balance, zeros included, by asset index.
    pub fn to_dense(&self) -> Vec<i64> {
        let mut dense = vec![0; self.assets];
        for (asset, units) in self.nonzero() {
            dense[asset] = units;
        }
        dense
    }
}

impl From<Vec<i64>> for Balances {
    fn from(balances: Vec<i64>) -> Balances {
        Balances::from_dense(&balances)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_non_zero_balances_and_reads_back_every_one() {
        let dense = vec![0, 5, 0, -3, 0];
        let balances = Balances::from_dense(&dense);
        assert_eq!(balances.asset_count(), 5);
        assert_eq!(balances.nonzero().collect::<Vec<_>>(), vec![(1, 5), (3, -3)]);
        assert_eq!((0..5).map(|a| balances.get(a)).collect::<Vec<_>>(), dense);
        assert_eq!(balances.to_dense(), dense);
        assert_eq!(Balances::from(vec![0, 0]).nonzero().len(), 0);
    }

    #[test]
    #[should_panic(expected = "asset 2 of balances over 2 assets")]
    fn an_asset_past_the_end_is_a_bug() {
        Balances::from_dense(&[1, 2]).get(2);
    }
}
