//! An f64 reference for LayerNorm/RMSNorm written straight from Flax's formulas, with
//! plain loops: nothing in it is shared with the library's kernel.

use ndarray::{ArrayD, Dimension, IxDyn};

pub struct NormReference<'a> {
    pub rms: bool,
    pub epsilon: f64,
    pub reduction_axes: &'a [isize],
    pub feature_axes: &'a [isize],
    pub scale: Option<&'a ArrayD<f32>>,
    pub bias: Option<&'a ArrayD<f32>>,
}

fn normalize_axes(axes: &[isize], rank: usize) -> Vec<usize> {
    let mut out: Vec<usize> = axes
        .iter()
        .map(|&a| {
            if a < 0 {
                (a + rank as isize) as usize
            } else {
                a as usize
            }
        })
        .collect();
    out.sort_unstable();
    out
}

impl NormReference<'_> {
    pub fn run(&self, x: &ArrayD<f32>, mask: Option<&ArrayD<bool>>) -> ArrayD<f64> {
        let rank = x.ndim();
        let reduce = normalize_axes(self.reduction_axes, rank);
        let features = normalize_axes(self.feature_axes, rank);
        let mask = mask.map(|m| {
            m.broadcast(x.raw_dim())
                .expect("mask broadcasts")
                .to_owned()
        });
        // The group of an element: its coordinates on the axes that are not reduced.
        let group_of = |index: &[usize]| -> Vec<usize> {
            (0..rank)
                .filter(|a| !reduce.contains(a))
                .map(|a| index[a])
                .collect()
        };
        let mut sums: std::collections::HashMap<Vec<usize>, (f64, f64)> = Default::default();
        for (index, &v) in x.indexed_iter() {
            let index = index.slice().to_vec();
            let selected = mask.as_ref().is_none_or(|m| m[IxDyn(&index)]);
            let entry = sums.entry(group_of(&index)).or_insert((0.0, 0.0));
            if selected {
                entry.0 += f64::from(v);
                entry.1 += 1.0;
            }
        }
        let mean = |group: &Vec<usize>| {
            if self.rms {
                0.0
            } else {
                let (sum, n) = sums[group];
                sum / n
            }
        };
        let mut var: std::collections::HashMap<Vec<usize>, f64> = Default::default();
        for (index, &v) in x.indexed_iter() {
            let index = index.slice().to_vec();
            let group = group_of(&index);
            let selected = mask.as_ref().is_none_or(|m| m[IxDyn(&index)]);
            let d = f64::from(v) - mean(&group);
            let entry = var.entry(group).or_insert(0.0);
            if selected {
                *entry += d * d;
            }
        }
        let feature_index = |index: &[usize]| -> usize {
            features
                .iter()
                .fold(0, |flat, &a| flat * x.shape()[a] + index[a])
        };
        ArrayD::from_shape_fn(x.raw_dim(), |index| {
            let index = index.slice().to_vec();
            let group = group_of(&index);
            let n = sums[&group].1;
            let mut y = (f64::from(x[IxDyn(&index)]) - mean(&group))
                / (var[&group] / n + self.epsilon).sqrt();
            let f = feature_index(&index);
            if let Some(scale) = self.scale {
                y *= f64::from(scale.as_slice().unwrap()[f]);
            }
            if let Some(bias) = self.bias {
                y += f64::from(bias.as_slice().unwrap()[f]);
            }
            y
        })
    }
}
