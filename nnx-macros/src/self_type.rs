//! `Self` in a method's signature means the module; inside the generated builders it
//! would mean the builder, so it is spelled out.

use syn::visit_mut::{self, VisitMut};
use syn::{Type, TypePath};

pub fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    let mut ty = ty.clone();
    SelfReplacer { self_ty }.visit_type_mut(&mut ty);
    ty
}

struct SelfReplacer<'a> {
    self_ty: &'a Type,
}

impl VisitMut for SelfReplacer<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        match ty {
            Type::Path(TypePath {
                qself: None, path, ..
            }) if path.is_ident("Self") => {
                *ty = self.self_ty.clone();
            }
            // `Self::Assoc` becomes `<Module>::Assoc`.
            Type::Path(TypePath {
                qself: None, path, ..
            }) if path.segments.len() > 1 && path.segments[0].ident == "Self" => {
                let self_ty = self.self_ty.clone();
                let rest: Vec<_> = path.segments.iter().skip(1).cloned().collect();
                *ty = syn::parse_quote!(<#self_ty>::#(#rest)::*);
            }
            _ => visit_mut::visit_type_mut(self, ty),
        }
    }
}
