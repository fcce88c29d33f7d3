//! TeaCache for HunyuanVideo: the exact rule of the official TeaCache script
//! (reference/hunyuanvideo_spec.md §6).

use hyv_frontend::HostTensor;

/// The rescale polynomial's coefficients, highest power first (`np.poly1d`).
pub const TEACACHE_COEFFICIENTS: [f64; 5] = [
    7.332_261_26e+02,
    -4.011_319_52e+02,
    6.758_691_74e+01,
    -3.149_878_00e+00,
    9.612_378_96e-02,
];

/// The TeaCache state of one model-evaluation stream (one per CFG branch: the official code
/// batches CFG into one call, so with separate cond/uncond calls each branch keeps its own
/// state, which advances once per denoising step).
///
/// Per step, with `m` the modulated input of the first dual-stream block's image stream:
/// on the first and last step of a run (`cnt == 0` or `cnt == num_steps − 1`) compute and reset
/// the accumulator; otherwise add `rescale(mean|m − m_prev| / mean|m_prev|)` to it and skip
/// the blocks while it stays below the threshold (compute and reset once it reaches it). Then
/// `m_prev = m` and `cnt` advances, wrapping to 0 after `num_steps` steps so the next run
/// starts afresh. The relative L1 distance is computed in f64 over every element of `m`
/// (the whole batch). The caller stores the blocks' residual after each computed step
/// ([`TeaCache::set_residual`]) and adds it to the image tokens on skipped steps.
#[derive(Debug, Clone)]
pub struct TeaCache {
    rel_l1_thresh: f64,
    num_steps: usize,
    cnt: usize,
    accumulated: f64,
    previous_modulated: Option<HostTensor>,
    previous_residual: Option<HostTensor>,
    computed: usize,
    skipped: usize,
}

impl TeaCache {
    /// A fresh state for runs of `num_steps` steps with threshold `rel_l1_thresh` (0.1 ≈ 1.6×,
    /// 0.15 ≈ 2.1× speed-up in the TeaCache README; 0 computes every step since the
    /// polynomial stays above 0.05).
    pub fn new(rel_l1_thresh: f64, num_steps: usize) -> TeaCache {
        TeaCache {
            rel_l1_thresh,
            num_steps,
            cnt: 0,
            accumulated: 0.0,
            previous_modulated: None,
            previous_residual: None,
            computed: 0,
            skipped: 0,
        }
    }

    /// The fitted rescale polynomial
    /// `733.226126·r⁴ − 401.131952·r³ + 67.5869174·r² − 3.14987800·r + 0.0961237896`.
    pub fn rescale(r: f64) -> f64 {
        TEACACHE_COEFFICIENTS.iter().fold(0.0, |acc, c| acc * r + c)
    }

    /// `mean|a − b| / mean|b|` over all elements, in f64 (`None` when the shapes differ).
    pub fn relative_l1(a: &HostTensor, b: &HostTensor) -> Option<f64> {
        if a.shape() != b.shape() {
            return None;
        }
        let (a, b) = (a.to_f64_vec(), b.to_f64_vec());
        let diff: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum();
        let norm: f64 = b.iter().map(|y| y.abs()).sum();
        Some(diff / norm)
    }

    /// Decides one step from the modulated input `modulated`: `true` = compute all blocks,
    /// `false` = reuse the residual. Updates the step counter, the accumulator and the previous
    /// modulated input as the official rule does; a step whose input shape differs from the
    /// previous one (a new resolution) is computed.
    pub fn decide(&mut self, modulated: &HostTensor) -> bool {
        let edge = self.cnt == 0 || self.cnt + 1 >= self.num_steps;
        let distance = self
            .previous_modulated
            .as_ref()
            .and_then(|prev| TeaCache::relative_l1(modulated, prev));
        let compute = match distance {
            Some(r) if !edge => {
                self.accumulated += TeaCache::rescale(r);
                if self.accumulated < self.rel_l1_thresh {
                    false
                } else {
                    self.accumulated = 0.0;
                    true
                }
            }
            _ => {
                self.accumulated = 0.0;
                true
            }
        };
        self.previous_modulated = Some(modulated.clone());
        self.cnt += 1;
        if self.cnt >= self.num_steps {
            self.cnt = 0;
        }
        if compute {
            self.computed += 1;
        } else {
            self.skipped += 1;
        }
        compute
    }

    /// Stores the residual of the blocks of the step just computed (image tokens after the
    /// last single-stream block minus those before the first dual-stream block).
    pub fn set_residual(&mut self, residual: HostTensor) {
        self.previous_residual = Some(residual);
    }

    /// The residual of the last computed step, if any.
    pub fn residual(&self) -> Option<&HostTensor> {
        self.previous_residual.as_ref()
    }

    /// The step counter (the index of the next step within the run).
    pub fn cnt(&self) -> usize {
        self.cnt
    }

    /// The accumulated rescaled distance since the last computed step.
    pub fn accumulated(&self) -> f64 {
        self.accumulated
    }

    /// How many steps [`TeaCache::decide`] has computed.
    pub fn computed(&self) -> usize {
        self.computed
    }

    /// How many steps [`TeaCache::decide`] has skipped.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}
