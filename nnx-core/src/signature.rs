//! Signature metadata that `#[module] impl` records, readable at run time for docs,
//! debugging and error messages. (The compile-time checks use generated types instead.)

use std::fmt;

/// How a parameter is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Positional,
    /// Passed by name (`mask = m`), with a default when omitted.
    Keyword,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: &'static str,
    pub kind: ParamKind,
    /// The declared type, as written.
    pub ty: &'static str,
    /// The default of a keyword parameter, as written (`Default::default()` if none was).
    pub default: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodSignature {
    pub module: &'static str,
    pub method: &'static str,
    /// The module's `#[call]` method, used by `call!(m(x))` and `vmap!(m(x))`.
    pub is_call: bool,
    /// Takes `&mut self`: vmap needs a stacked module (`self = 0`).
    pub mutates: bool,
    /// Has a batching rule that `vmap!` runs on the whole batch.
    pub batched: bool,
    pub params: &'static [ParamInfo],
    pub output: &'static str,
}

impl MethodSignature {
    pub fn positional(&self) -> impl Iterator<Item = &ParamInfo> {
        self.params
            .iter()
            .filter(|p| p.kind == ParamKind::Positional)
    }

    pub fn keywords(&self) -> impl Iterator<Item = &ParamInfo> {
        self.params.iter().filter(|p| p.kind == ParamKind::Keyword)
    }

    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Prints Python-style, keywords after `*`: `LayerNorm::forward(&self, x: ArrayViewD<'_, f32>, *, mask: Option<..> = None) -> ..`.
impl fmt::Display for MethodSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let receiver = if self.mutates { "&mut self" } else { "&self" };
        write!(f, "{}::{}({receiver}", self.module, self.method)?;
        for param in self.positional() {
            write!(f, ", {}: {}", param.name, param.ty)?;
        }
        for (i, param) in self.keywords().enumerate() {
            if i == 0 {
                f.write_str(", *")?;
            }
            write!(f, ", {}: {}", param.name, param.ty)?;
            if let Some(default) = param.default {
                write!(f, " = {default}")?;
            }
        }
        write!(f, ") -> {}", self.output)
    }
}

/// The signatures of a type's `#[module] impl` block.
pub trait Signatures {
    const METHODS: &'static [MethodSignature];

    fn signature(method: &str) -> Option<&'static MethodSignature> {
        Self::METHODS.iter().find(|sig| sig.method == method)
    }

    fn call_signature() -> Option<&'static MethodSignature> {
        Self::METHODS.iter().find(|sig| sig.is_call)
    }
}
