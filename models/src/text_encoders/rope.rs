//! Llama's rotary embedding tables (transformers' `LlamaRotaryEmbedding`): inverse
//! frequencies (default or `llama3`-scaled), then `cos`/`sin` of `position · inv_freq`,
//! duplicated over both halves of the head (`rotate_half` convention), in f32.

use super::config::RopeScaling;
use hyv_frontend::{HostTensor, Result};

/// The `head_dim / 2` inverse frequencies `θ^(-2i/d)`, rescaled as `scaling` says. Computed
/// in f64 and rounded to f32 (transformers computes them in f32; the two agree to an ulp).
pub fn inv_freq(head_dim: usize, theta: f64, scaling: RopeScaling) -> Vec<f32> {
    let base = (0..head_dim / 2).map(|i| 1.0 / theta.powf((2 * i) as f64 / head_dim as f64));
    let scaled = base.map(|f| match scaling {
        RopeScaling::None => f,
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings: old,
        } => {
            let wavelen = 2.0 * std::f64::consts::PI / f;
            if wavelen > old / low_freq_factor {
                f / factor
            } else if wavelen < old / high_freq_factor {
                f
            } else {
                let smooth =
                    (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                (1.0 - smooth) * f / factor + smooth * f
            }
        }
    });
    scaled.map(|f| f as f32).collect()
}

/// `(cos, sin)` tables `f32 [len, head_dim]` for positions `0..len`: the angle of position
/// `p`, channel `j` is `p · inv_freq[j mod head_dim/2]` (an f32 product, as transformers).
pub fn rope_tables(
    len: usize,
    head_dim: usize,
    inv_freq: &[f32],
) -> Result<(HostTensor, HostTensor)> {
    let half = head_dim / 2;
    let mut cos = Vec::with_capacity(len * head_dim);
    let mut sin = Vec::with_capacity(len * head_dim);
    for p in 0..len {
        for j in 0..head_dim {
            let angle = (p as f32 * inv_freq[j % half]) as f64;
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    Ok((
        HostTensor::from_f32([len, head_dim], cos)?,
        HostTensor::from_f32([len, head_dim], sin)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_frequencies() {
        let f = inv_freq(4, 10000.0, RopeScaling::None);
        assert_eq!(f, vec![1.0, 0.01]);
    }

    #[test]
    fn tables_duplicate_the_halves() {
        let (cos, sin) = rope_tables(3, 4, &[1.0, 0.5]).unwrap();
        let (c, s) = (cos.to_f32_vec(), sin.to_f32_vec());
        assert_eq!(&c[0..4], &[1.0; 4]);
        let close = |a: f32, b: f64| (a as f64 - b).abs() < 1e-7;
        assert!(close(c[4 + 1], 0.5f64.cos()) && close(c[4 + 3], 0.5f64.cos()));
        assert!(close(s[8], 2.0f64.sin()) && close(s[8 + 2], 2.0f64.sin()));
        assert!(close(s[8 + 1], 1.0f64.sin()));
    }
}
