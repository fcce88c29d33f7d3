//! Nearest-neighbour upsampling by integer factors.

use crate::index::strides;
use crate::movement::map_one;
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `upsample_nearest`: output position `p` of spatial dim `d` reads input
/// position `p / scale[d]`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let (Op::UpsampleNearest { scale }, [x]) = (op, inputs) else {
        return Err("not an upsample_nearest with one operand".into());
    };
    let xs = strides(x.shape().dims());
    map_one(out, x, |idx| {
        idx.iter()
            .enumerate()
            .map(|(d, &i)| if d < 2 { i } else { i / scale[d - 2] } * xs[d])
            .sum()
    })
}
