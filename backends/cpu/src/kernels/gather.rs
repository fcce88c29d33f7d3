//! The strided gather behind every data-movement kernel: each output dimension has a
//! table giving, for each of its indices, the source offset it contributes (or [`FILL`]),
//! and `out[i₀, …, iᵣ] = src[Σ tables[d][i_d]]`. Permute, broadcast, slice, pad, gather,
//! upsampling and im2col differ only in their tables. The innermost table is compressed
//! into runs of constant stride, so contiguous rows become `memcpy`s.

use crate::tensor::{Elem, GRAIN};
use rayon::prelude::*;

/// A table entry meaning "no source element: write the fill value".
pub const FILL: usize = usize::MAX;

/// A run of the innermost dimension.
#[derive(Debug, Clone, Copy)]
enum Segment {
    /// `len` fill values.
    Fill(usize),
    /// `len` source elements from `start`, `stride` apart.
    Strided {
        start: usize,
        stride: usize,
        len: usize,
    },
}

/// A compiled gather: the outer tables and the innermost dimension as segments.
#[derive(Debug, Clone)]
pub struct Gather {
    outer: Vec<Vec<usize>>,
    inner: Vec<Segment>,
    row: usize,
}

impl Gather {
    /// Compiles per-dimension tables (the output's extents are the table lengths; rank 0 is a
    /// scalar copy).
    pub fn new(mut tables: Vec<Vec<usize>>) -> Self {
        let inner_table = tables.pop().unwrap_or_else(|| vec![0]);
        Gather {
            outer: tables,
            row: inner_table.len(),
            inner: segments(&inner_table),
        }
    }

    /// Elements per output row (the innermost extent).
    pub fn row_len(&self) -> usize {
        self.row
    }

    /// Number of output rows.
    pub fn rows(&self) -> usize {
        self.outer.iter().map(Vec::len).product()
    }

    /// Writes output row `r` into `dst` (`row_len` elements).
    pub fn row_into<T: Elem>(&self, r: usize, dst: &mut [T], src: &[T], fill: T) {
        let Some(base) = self.row_base(r) else {
            dst.fill(fill);
            return;
        };
        let mut pos = 0;
        for seg in &self.inner {
            match *seg {
                Segment::Fill(len) => {
                    dst[pos..pos + len].fill(fill);
                    pos += len;
                }
                Segment::Strided { start, stride, len } => {
                    let d = &mut dst[pos..pos + len];
                    let s = base + start;
                    if stride == 1 {
                        d.copy_from_slice(&src[s..s + len]);
                    } else {
                        for (j, e) in d.iter_mut().enumerate() {
                            *e = src[s + j * stride];
                        }
                    }
                    pos += len;
                }
            }
        }
    }

    /// The source offset of row `r`, or `None` when an outer index is [`FILL`].
    fn row_base(&self, mut r: usize) -> Option<usize> {
        let mut base = 0;
        for table in self.outer.iter().rev() {
            let entry = table[r % table.len()];
            r /= table.len();
            if entry == FILL {
                return None;
            }
            base += entry;
        }
        Some(base)
    }

    /// Runs the gather over `src`, in parallel over rows.
    pub fn run<T: Elem>(&self, src: &[T], fill: T) -> Vec<T> {
        let row = self.row;
        // `row_into` writes every element (fills included).
        let mut out = crate::pool::buffer_of(self.rows() * row, fill);
        let rows_per_task = (GRAIN / row).max(1);
        out.par_chunks_mut(row * rows_per_task)
            .enumerate()
            .for_each(|(t, chunk)| {
                for (r, dst) in chunk.chunks_mut(row).enumerate() {
                    self.row_into(t * rows_per_task + r, dst, src, fill);
                }
            });
        out
    }
}

/// Compresses a table into fill runs and constant-stride runs.
fn segments(table: &[usize]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut j = 0;
    while j < table.len() {
        if table[j] == FILL {
            let len = table[j..].iter().take_while(|&&e| e == FILL).count();
            out.push(Segment::Fill(len));
            j += len;
            continue;
        }
        let start = table[j];
        let next = table
            .get(j + 1)
            .copied()
            .filter(|&e| e != FILL && e >= start);
        let Some(next) = next else {
            out.push(Segment::Strided {
                start,
                stride: 1,
                len: 1,
            });
            j += 1;
            continue;
        };
        let stride = next - start;
        let len = 1 + table[j + 1..]
            .iter()
            .enumerate()
            .take_while(|&(i, &e)| e != FILL && e == start + (i + 1) * stride)
            .count();
        out.push(Segment::Strided { start, stride, len });
        j += len;
    }
    out
}

/// The table of a dimension read with a fixed stride: `i ↦ i·stride`.
pub fn linear(extent: usize, stride: usize) -> Vec<usize> {
    (0..extent).map(|i| i * stride).collect()
}

/// Every offset of the multi-indices over `groups` of (extent, stride), in row-major order.
pub fn offsets(groups: &[(usize, usize)]) -> Vec<usize> {
    let mut out = vec![0];
    for &(e, s) in groups {
        out = out
            .iter()
            .flat_map(|&o| (0..e).map(move |i| o + i * s))
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_fills_runs_and_strides() {
        let t = [FILL, FILL, 4, 5, 6, 10, 12, 14, 3, FILL];
        let total: usize = segments(&t)
            .iter()
            .map(|s| match s {
                Segment::Fill(l) | Segment::Strided { len: l, .. } => *l,
            })
            .sum();
        assert_eq!(total, t.len());
        let g = Gather::new(vec![vec![0, FILL], t.to_vec()]);
        let src: Vec<i32> = (0..20).collect();
        let out = g.run(&src, -1);
        assert_eq!(&out[..10], &[-1, -1, 4, 5, 6, 10, 12, 14, 3, -1]);
        assert!(out[10..].iter().all(|&e| e == -1));
    }
}
