//! PyTorch names and layouts, as data: a list of per-layer rules that any module's
//! variables are matched against, so no model needs a hand-written key list.

use std::collections::HashMap;

use super::plan::{Layout, Plan, PlanEntry};
use super::{CheckpointError, Variables};

/// How one nnx variable of a layer is named and laid out in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRule {
    /// The variable's path inside the layer (`kernel`, `query.kernel`).
    pub nnx: String,
    /// The PyTorch name inside the layer (`weight`, `in_proj_weight`). Variables of one
    /// rule with the same `torch` name are fused: concatenated along the first axis, in
    /// the order listed.
    pub torch: String,
    /// The variable's rank in nnx; a variable of another rank does not match.
    pub rank: usize,
    /// How the PyTorch layout differs.
    pub layout: Layout,
    /// Whether the layer rule applies only where this variable exists.
    pub required: bool,
}

impl ParamRule {
    /// A variable the layer must have for the rule to apply.
    pub fn required(nnx: &str, torch: &str, rank: usize, layout: Layout) -> Self {
        Self {
            nnx: nnx.to_owned(),
            torch: torch.to_owned(),
            rank,
            layout,
            required: true,
        }
    }

    /// A variable mapped when the layer has it (a bias).
    pub fn optional(nnx: &str, torch: &str, rank: usize, layout: Layout) -> Self {
        Self {
            required: false,
            ..Self::required(nnx, torch, rank, layout)
        }
    }
}

/// The variables of one kind of layer: it applies at every prefix of the module where
/// all its required variables exist with their ranks (`fc1.` for `kernel` and `bias`).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRule {
    /// What it maps, for messages and [`Plan`]'s display (`nn.Linear`).
    pub name: String,
    /// Its variables; the first required one anchors the match.
    pub params: Vec<ParamRule>,
}

/// nnx paths to PyTorch `state_dict` keys and layouts: rules per layer kind, tried in
/// order (a variable claimed by one rule is not seen by later ones; a variable no rule
/// claims keeps its path), prefix renames, and PyTorch keys a load may ignore.
///
/// [`TorchMapping::pytorch`] (also `Default`) maps the layers nnx has; print
/// [`plan`](TorchMapping::plan) to see what it does to a module, and edit the public
/// fields to adjust it:
///
/// ```
/// use nnx::checkpoint::TorchMapping;
/// use nnx::prelude::*;
///
/// #[module]
/// struct Mlp { fc1: Linear, norm: LayerNorm }
///
/// let mlp = Mlp { fc1: Linear::new(4, 8, &mut Rngs::new(0)), norm: LayerNorm::new(8) };
/// let mut mapping = TorchMapping::pytorch();
/// mapping.rename_prefix("fc1", "layers.0");           // the PyTorch model's own names
/// let plan = mapping.plan(&mlp)?;
/// assert_eq!(plan.entries[0].key, "layers.0.weight"); // kernel [4, 8] <- weight [8, 4]
/// assert_eq!(plan.entries[0].key_shape, [8, 4]);
/// assert_eq!(plan.entries[2].key, "norm.weight");     // LayerNorm's scale
/// println!("{plan}");
/// # Ok::<(), nnx::CheckpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TorchMapping {
    /// Per-layer rules, most specific first.
    pub rules: Vec<LayerRule>,
    /// `(nnx prefix, PyTorch prefix)` pairs applied to the keys the rules produce; the
    /// longest matching prefix wins. An empty nnx prefix prepends to every key.
    pub prefixes: Vec<(String, String)>,
    /// PyTorch keys, or last key segments, that a load skips without complaint
    /// (`num_batches_tracked`, which nnx's BatchNorm does not keep).
    pub ignore: Vec<String>,
}

impl Default for TorchMapping {
    fn default() -> Self {
        Self::pytorch()
    }
}

impl TorchMapping {
    /// The rules for nnx's layers against `torch.nn`'s:
    ///
    /// | nnx | PyTorch |
    /// |---|---|
    /// | MultiHeadAttention `query`/`key`/`value.kernel` `[d, heads, head_dim]` | `nn.MultiheadAttention.in_proj_weight` `[3·heads·head_dim, d]`, fused and transposed |
    /// | its `query`/`key`/`value.bias` `[heads, head_dim]` | `in_proj_bias`, fused and flattened |
    /// | its `out.kernel` `[heads, head_dim, d]`, `out.bias` | `out_proj.weight` `[d, heads·head_dim]`, `out_proj.bias` |
    /// | BatchNorm `mean`, `var`, `scale`, `bias` | `running_mean`, `running_var`, `weight`, `bias` (`num_batches_tracked` ignored) |
    /// | LayerNorm, RMSNorm, GroupNorm `scale`, `bias` | `weight`, `bias` |
    /// | Linear `kernel` `[in, out]`, `bias` | `nn.Linear.weight` `[out, in]`, `bias` |
    /// | Conv `kernel` `[k.., in / groups, out]` (rank 3-5), `bias` | `nn.Conv1d`/`2d`/`3d.weight` `[out, in / groups, k..]`, `bias` |
    /// | Embed `embedding` | `nn.Embedding.weight` |
    ///
    /// The convolution rules take any other `kernel` of rank 3 to 5 (with at most a
    /// rank-1 `bias`) for a convolution's, a `LinearGeneral`'s too: put your own rule
    /// first, or remove theirs, where that is wrong. `ConvTranspose` has no rule
    /// (PyTorch's transposed kernels differ in layout and flip).
    pub fn pytorch() -> Self {
        use Layout::{Conv, Flatten, Linear, Same};
        let rule = |name: &str, params| LayerRule {
            name: name.to_owned(),
            params,
        };
        let (req, opt) = (ParamRule::required, ParamRule::optional);
        let qkv = Linear { in_axes: 1 };
        Self {
            rules: vec![
                rule(
                    "nn.MultiheadAttention",
                    vec![
                        req("query.kernel", "in_proj_weight", 3, qkv),
                        req("key.kernel", "in_proj_weight", 3, qkv),
                        req("value.kernel", "in_proj_weight", 3, qkv),
                        req("out.kernel", "out_proj.weight", 3, Linear { in_axes: 2 }),
                        opt("query.bias", "in_proj_bias", 2, Flatten),
                        opt("key.bias", "in_proj_bias", 2, Flatten),
                        opt("value.bias", "in_proj_bias", 2, Flatten),
                        opt("out.bias", "out_proj.bias", 1, Same),
                    ],
                ),
                rule(
                    "nn.BatchNorm",
                    vec![
                        req("mean", "running_mean", 1, Same),
                        req("var", "running_var", 1, Same),
                        opt("scale", "weight", 1, Same),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
                rule(
                    "nn.LayerNorm",
                    vec![
                        req("scale", "weight", 1, Same),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
                rule(
                    "nn.Linear",
                    vec![
                        req("kernel", "weight", 2, Linear { in_axes: 1 }),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
                rule("nn.Embedding", vec![req("embedding", "weight", 2, Same)]),
                rule(
                    "nn.Conv1d",
                    vec![
                        req("kernel", "weight", 3, Conv),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
                rule(
                    "nn.Conv2d",
                    vec![
                        req("kernel", "weight", 4, Conv),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
                rule(
                    "nn.Conv3d",
                    vec![
                        req("kernel", "weight", 5, Conv),
                        opt("bias", "bias", 1, Same),
                    ],
                ),
            ],
            prefixes: Vec::new(),
            ignore: vec!["num_batches_tracked".to_owned()],
        }
    }

    /// Maps the nnx prefix `nnx` (`fc1`) to the PyTorch prefix `torch` (`mlp.0`).
    pub fn rename_prefix(&mut self, nnx: &str, torch: &str) -> &mut Self {
        self.prefixes.push((nnx.to_owned(), torch.to_owned()));
        self
    }

    /// Where each variable of `vars` (a module or a [`State`](crate::State)) is in a
    /// PyTorch file. An error if a rule's fused variables do not fit together. Random
    /// streams and caches have no PyTorch counterpart and are left out.
    pub fn plan<V: Variables + ?Sized>(&self, vars: &V) -> Result<Plan, CheckpointError> {
        let mut inventory = vars.inventory();
        inventory.retain(|(_, kind, _)| !kind.is_run_state());
        let index: HashMap<&str, usize> = inventory
            .iter()
            .enumerate()
            .map(|(i, (path, _, _))| (path.as_str(), i))
            .collect();
        // Per variable: (rule name, layer prefix, param rule).
        let mut claims: Vec<Option<(&LayerRule, String, &ParamRule)>> = vec![None; inventory.len()];
        for rule in &self.rules {
            let Some(anchor) = rule.params.iter().find(|p| p.required) else {
                continue;
            };
            for (path, _, _) in &inventory {
                let Some(prefix) = layer_prefix(path, &anchor.nnx) else {
                    continue;
                };
                let fits = |p: &ParamRule| {
                    index
                        .get(format!("{prefix}{}", p.nnx).as_str())
                        .filter(|&&i| claims[i].is_none() && inventory[i].2.len() == p.rank)
                        .copied()
                };
                if !rule
                    .params
                    .iter()
                    .filter(|p| p.required)
                    .all(|p| fits(p).is_some())
                {
                    continue;
                }
                let matched: Vec<(usize, &ParamRule)> = rule
                    .params
                    .iter()
                    .filter_map(|p| fits(p).map(|i| (i, p)))
                    .collect();
                for (i, p) in matched {
                    claims[i] = Some((rule, prefix.to_owned(), p));
                }
            }
        }

        let mut entries: Vec<PlanEntry> = Vec::with_capacity(inventory.len());
        // Fused tensors: key -> indices into `entries`, to size and place the parts.
        let mut fused: HashMap<String, Vec<usize>> = HashMap::new();
        let mut order: Vec<(usize, String, &LayerRule)> = Vec::new();
        for (i, (path, kind, shape)) in inventory.iter().enumerate() {
            let (key, layout, rule) = match &claims[i] {
                Some((rule, prefix, p)) => (format!("{prefix}{}", p.torch), p.layout, Some(*rule)),
                None => (path.clone(), Layout::Same, None),
            };
            let key = self.renamed(&key);
            let key_shape = layout
                .file_shape(shape)
                .ok_or_else(|| CheckpointError::Mapping {
                    rule: rule.map_or_else(String::new, |r| r.name.clone()),
                    path: path.clone(),
                    detail: format!("layout {layout:?} does not apply to shape {shape:?}"),
                })?;
            if let Some(rule) = rule {
                let parts = fused.entry(key.clone()).or_default();
                if parts.is_empty() {
                    order.push((entries.len(), key.clone(), rule));
                }
                parts.push(entries.len());
            }
            entries.push(PlanEntry {
                path: path.clone(),
                kind: *kind,
                shape: shape.clone(),
                key,
                key_shape,
                rows: None,
                layout,
                rule: rule.map(|r| r.name.clone()),
            });
        }
        for (_, key, rule) in order {
            let parts = &fused[&key];
            if parts.len() < 2 {
                continue;
            }
            let first = &entries[parts[0]];
            let tail = first.key_shape[1..].to_vec();
            let mut rows = 0;
            for &i in parts {
                let e = &entries[i];
                if e.key_shape.len() != first.key_shape.len() || e.key_shape[1..] != tail[..] {
                    return Err(CheckpointError::Mapping {
                        rule: rule.name.clone(),
                        path: e.path.clone(),
                        detail: format!(
                            "`{}` is {:?} in PyTorch's layout but `{}` is {:?}: they cannot be \
                             fused into `{key}` (PyTorch fuses them only when their input \
                             sizes agree)",
                            e.path, e.key_shape, first.path, first.key_shape
                        ),
                    });
                }
                rows += e.key_shape[0];
            }
            let mut start = 0;
            for &i in parts {
                let e = &mut entries[i];
                let n = e.key_shape[0];
                e.rows = Some(start..start + n);
                e.key_shape[0] = rows;
                start += n;
            }
        }
        Ok(Plan { entries })
    }

    /// Whether a load may skip the file's tensor `key`.
    pub fn ignores(&self, key: &str) -> bool {
        self.ignore.iter().any(|pattern| {
            key == pattern
                || key
                    .strip_suffix(pattern.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }

    fn renamed(&self, key: &str) -> String {
        let best = self
            .prefixes
            .iter()
            .filter_map(|(from, to)| {
                let rest = if from.is_empty() {
                    Some(key)
                } else {
                    key.strip_prefix(from.as_str())
                        .filter(|rest| rest.is_empty() || rest.starts_with('.'))
                        .map(|rest| rest.strip_prefix('.').unwrap_or(rest))
                }?;
                Some((from.len(), to, rest))
            })
            .max_by_key(|(len, _, _)| *len);
        match best {
            Some((_, to, "")) => to.clone(),
            Some((_, to, rest)) if to.is_empty() => rest.to_owned(),
            Some((_, to, rest)) => format!("{to}.{rest}"),
            None => key.to_owned(),
        }
    }
}

/// `Some("attn.")` for `attn.query.kernel` and the leaf `query.kernel`; `Some("")` for
/// the leaf itself.
fn layer_prefix<'a>(path: &'a str, leaf: &str) -> Option<&'a str> {
    let head = path.strip_suffix(leaf)?;
    (head.is_empty() || head.ends_with('.')).then_some(head)
}
