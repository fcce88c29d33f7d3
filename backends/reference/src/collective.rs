//! Collectives on a single rank: with group size 1 every collective is the identity; larger
//! groups need the distributed runtime.

use hyv_ir::{CommGroup, HostTensor, Op, TensorType};

/// Evaluates a collective (identity for a group of size 1, an error otherwise).
pub fn eval(op: &Op, _out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let group: &CommGroup = match op {
        Op::AllReduce { group, .. }
        | Op::AllGather { group, .. }
        | Op::ReduceScatter { group, .. }
        | Op::AllToAll { group, .. } => group,
        Op::BroadcastFrom { root, group } => {
            if *root >= group.size {
                return Err(format!(
                    "root rank {root} is outside group `{}` of size {}",
                    group.name, group.size
                ));
            }
            group
        }
        _ => return Err("not a collective op".into()),
    };
    let [x] = inputs else {
        return Err(format!("expects 1 operand, got {}", inputs.len()));
    };
    if group.size != 1 {
        return Err(format!(
            "the reference backend runs a single rank; collectives of group `{}` (size {}) need the distributed runtime",
            group.name, group.size
        ));
    }
    Ok((*x).clone())
}
