//! Variants and holdout: assigned by hashing (campaign, customer), so a
//! customer lands in the same arm on every daemon and every occurrence.

use camp_compiler::plan::Plan;
use sha2::{Digest, Sha256};

/// The arm name of the control group.
pub const HOLDOUT: &str = "holdout";

/// A number in [0, 100) from (campaign, customer).
pub fn bucket(campaign: &str, customer: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(campaign.as_bytes());
    h.update([0u8]);
    h.update(customer.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let x = u64::from_be_bytes(first) >> 11;
    x as f64 / (1u64 << 53) as f64 * 100.0
}

/// The customer's arm (`""` without an experiment, a variant's name, or
/// [`HOLDOUT`]) and the step it starts at. The holdout walks the first
/// variant's steps (or the campaign's), recording what it would have been
/// sent without sending it.
pub fn assign(plan: &Plan, customer: &str) -> (String, Option<usize>) {
    let first_entry = plan.entry.or_else(|| plan.experiment.variants.first().map(|v| v.entry));
    let b = bucket(&plan.name, customer);
    let holdout = plan.experiment.holdout.unwrap_or(0.0).clamp(0.0, 100.0);
    if b < holdout {
        return (HOLDOUT.to_string(), first_entry);
    }
    if plan.experiment.variants.is_empty() {
        return (String::new(), plan.entry);
    }
    let rest = if holdout >= 100.0 {
        0.0
    } else {
        (b - holdout) / (100.0 - holdout) * 100.0
    };
    let total: f64 = plan.experiment.variants.iter().map(|v| v.percent.max(0.0)).sum();
    let mut acc = 0.0;
    for v in &plan.experiment.variants {
        acc += v.percent.max(0.0) / total.max(f64::MIN_POSITIVE) * 100.0;
        if rest < acc {
            return (v.name.clone(), Some(v.entry));
        }
    }
    let last = plan.experiment.variants.last();
    (last.map(|v| v.name.clone()).unwrap_or_default(), last.map(|v| v.entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("c", "1"), bucket("c", "1"));
        let low = (0..10_000).filter(|i| bucket("vip", &i.to_string()) < 10.0).count();
        assert!((800..1200).contains(&low), "about 10% below 10: {low}");
    }
}
