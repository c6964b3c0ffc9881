//! What `#[module]`, `call!` and `vmap!` expansions name, through `nnx::__private`. Not
//! a public API: it changes with the macros, which is why the crates pin each other's
//! exact versions.

pub use crate::arg::IntoArg;
pub use crate::batching::{
    Batch, BatchSize, BatchView, DefaultAxes, IntoAxes, IntoVmapError, Mappable, Slot, Stackable,
    Stacked, VmapError, map_examples,
};
pub use crate::{Callable, MethodSignature, ParamInfo, ParamKind, Signatures};
pub use core::marker::PhantomData;
pub use core::option::Option;
pub use core::result::Result;
pub use nnx_macros::{call, scan, vmap};
use std::rc::Rc;
use std::sync::Arc;

/// The receiver a vmapped `&self` method runs on.
pub enum Receiver<'m, M> {
    /// One module, shared by every example.
    Broadcast(&'m M),
    /// A stack whose member `i` runs example `i` (`self = 0`).
    Stacked(&'m Stacked<M>),
}

/// The receiver a vmapped `&mut self` method runs on: a stack, or one module that its
/// batching rule mutates once for the whole batch (`self = None` written out). Never
/// the per-example loop on one module: examples that mutate one shared module would
/// race (NNX finds this at run time).
pub enum ReceiverMut<'m, M> {
    /// One module; only its batching rule runs on it.
    Broadcast(&'m mut M),
    /// A stack whose member `i` runs example `i` (`self = 0`).
    Stacked(&'m mut Stacked<M>),
}

/// What `self = 0` in `in_axes` calls on the receiver: a [`Stacked`] module's first
/// member fixes the method's types for the expansion. Called as `StackedReceiver::first(..)`
/// on the user's receiver, so another receiver is this one message, at `self`; the
/// member type is a parameter, not an associated type, so nothing after it is reported.
#[diagnostic::on_unimplemented(
    message = "`self = 0` maps over the members of a `Stacked` module, and `{Self}` is not one",
    label = "`self = 0` needs a `Stacked` receiver",
    note = "build an ensemble with `Stacked::new(n, |i| ..)`; to share one module across the batch, drop `self = 0` (or write `self = None`)"
)]
pub trait StackedReceiver<M> {
    /// The first member.
    fn first(&self) -> &M;
}

impl<M> StackedReceiver<M> for Stacked<M> {
    fn first(&self) -> &M {
        &self.members()[0]
    }
}

/// Behind pointers too: a `&mut self` method's members then fail `ModuleBorrow`, which
/// says that the stack is borrowed shared, not that it is no stack.
macro_rules! stacked_through {
    ($($ptr:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<M, S: StackedReceiver<M> + ?Sized> StackedReceiver<M> for $ptr {
            fn first(&self) -> &M {
                (**self).first()
            }
        }
    )*};
}

stacked_through!(&S, &mut S, Box<S>, Rc<S>, Arc<S>);

/// What `scan!(.., out_axes = axis)` asks of each member's output: a `(carry, output)`
/// pair, the outputs stacked along `axis` (as `vmap!` stacks examples).
#[diagnostic::on_unimplemented(
    message = "scan! with `out_axes` takes members that return `(carry, output)`, and `{Self}` is not such a pair",
    label = "`out_axes` stacks the second element of each member's output",
    note = "drop `out_axes` to get only the last carry"
)]
pub trait ScanOutputs<C, Y> {
    /// The pair, apart (parameters, not associated types, so that a member output that
    /// is not a pair is this one message).
    fn split(self) -> (C, Y);
}

impl<C, Y> ScanOutputs<C, Y> for (C, Y) {
    fn split(self) -> (C, Y) {
        self
    }
}

/// The members' outputs stacked along `axes`.
pub fn scan_stack<Y: Stackable>(outputs: Vec<Y>, axes: Y::Axes) -> Result<Y::Batched, VmapError> {
    Y::stack(outputs, axes)
}

/// A borrowed [`Stacked`]'s number of members, and member `index` borrowed the same way.
pub trait ScanMembers {
    /// A member, borrowed as the stack is.
    type Member<'s>
    where
        Self: 's;
    /// The number of members.
    fn members(&self) -> usize;
    /// Member `index`.
    fn member(&mut self, index: usize) -> Self::Member<'_>;
}

impl<M> ScanMembers for &Stacked<M> {
    type Member<'s>
        = &'s M
    where
        Self: 's;

    fn members(&self) -> usize {
        self.len()
    }

    fn member(&mut self, index: usize) -> &M {
        &self.members()[index]
    }
}

impl<M> ScanMembers for &mut Stacked<M> {
    type Member<'s>
        = &'s mut M
    where
        Self: 's;

    fn members(&self) -> usize {
        self.len()
    }

    fn member(&mut self, index: usize) -> &mut M {
        &mut self.members_mut()[index]
    }
}

/// A method's name at the type level (a hash of it), for the choice `call!` makes
/// between borrowing the module shared or unique.
pub struct Name<const HASH: u64>;

/// The name of the module's `#[call]` method, whatever it is.
pub struct CallName;

/// A module's `&self` method named `N`: `call!` borrows the module shared for it, and
/// `vmap!` may broadcast the module to it.
pub trait SharedMethod<N> {}

/// A module's method named `N` that `vmap!` may run with the module shared across the
/// batch when `self = None` is written out: a `&self` method, or a `&mut self` one with a
/// batching rule, which runs once on the whole batch and mutates the module once
/// (BatchNorm's statistics over every example).
pub trait BroadcastMethod<N> {}

/// The methods of a type's `#[module] impl`, as the tables `call!` and `vmap!` pick a
/// method from by the name the user wrote, so that rustc's own "no method named .."
/// names the method and suggests the closest one. Each step is called as
/// `ModuleMethods::calls(..)`, so a type that is not a module is this one message, at the
/// receiver, and the steps after it are not reported again.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an nnx module: `call!` and `vmap!` take a value whose type has `#[module]`",
    label = "not a module",
    note = "put `#[module]` on the type's struct and on the `impl` block of its forward methods; a `Stacked` ensemble is mapped with `in_axes = (.., self = 0)`"
)]
pub trait ModuleMethods {
    /// `call!`'s table: each method starts its call, with the keywords' defaults.
    type Table;
    /// `vmap!`'s table: each method gives its entry.
    type VmapTable;
    /// [`Methods<R>`]: a projection, so that where the type is not a module it is an
    /// error type, and no method is looked up on it.
    type Calls<R>
    where
        R: Borrowed<Module = Self>;
    /// [`VmapMethods<Self>`], a projection as [`ModuleMethods::Calls`] is.
    type Vmaps;
    /// The receiver, unchanged.
    type Same<R>;

    /// The table of calls (owning pointers forward here).
    fn calls_through() -> Self::Table;

    /// The table of vmap entries.
    fn vmaps_through() -> Self::VmapTable;

    /// The receiver, once its type is known to be a module.
    fn same<R: Borrowed<Module = Self>>(receiver: R) -> Self::Same<R>;

    /// The methods `call!` can call on `receiver`.
    fn calls<R: Borrowed<Module = Self>>(receiver: R) -> Self::Calls<R>;

    /// The methods `vmap!` can map, for a module borrowed as `receiver`.
    fn vmaps<R: Borrowed<Module = Self>>(receiver: R) -> Self::Vmaps;
}

/// What `call!(m.method(..))` looks `method` up on: the methods of the module that `R`
/// (a `&` or `&mut` of the module or of a pointer to it) borrows, and that borrow, which
/// the call then runs on once [`ModuleBorrow::enter`] has reached the module. The
/// module's own table is behind `Deref`, so a misspelt name is rustc's "no method named
/// `fowrard` found for struct `Methods<&LayerNorm>`", with the closest name suggested,
/// and no generated type in it.
pub struct Methods<R: Borrowed>(pub R, pub <R::Module as ModuleMethods>::Table)
where
    R::Module: ModuleMethods;

impl<R: Borrowed> core::ops::Deref for Methods<R>
where
    R::Module: ModuleMethods,
{
    type Target = <R::Module as ModuleMethods>::Table;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.1
    }
}

impl<R: Borrowed> Receiving for Methods<R>
where
    R::Module: ModuleMethods,
{
    type Receiver = R;

    #[inline]
    fn into_receiver(self) -> R {
        self.0
    }
}

/// A table that holds the borrow its call runs on, given back once the method (and so
/// the borrow it needs) is known. Called as `Receiving::into_receiver(table)`: a method
/// would hide a module method of that name.
pub trait Receiving {
    /// The borrow, as `call!` took it.
    type Receiver;

    /// The borrow.
    fn into_receiver(self) -> Self::Receiver;
}

/// What `vmap!(m.method(..))` looks `method` up on, as [`Methods`] for `call!`.
pub struct VmapMethods<M: ModuleMethods + ?Sized>(pub M::VmapTable);

impl<M: ModuleMethods + ?Sized> core::ops::Deref for VmapMethods<M> {
    type Target = M::VmapTable;

    #[inline]
    fn deref(&self) -> &M::VmapTable {
        &self.0
    }
}

/// What `call!` sets a method's keywords on: the keywords of the `METHOD`-th method
/// (in declaration order) of `M`'s `#[module] impl`. The builder behind `Deref` holds
/// them; a misspelt keyword is rustc's "no method named `maks` found for struct
/// `Keywords<'_, '_, LayerNorm, 0>`", with the closest keyword suggested.
pub struct Keywords<'m, 'a, M: MethodKeywords<'m, 'a, METHOD> + ?Sized, const METHOD: usize>(
    pub M::Builder,
    // `M: 'm`, implied wherever the wrapper is named, as the builder's borrow needs.
    pub PhantomData<&'m M>,
);

/// The builder of a method's keywords for `call!`, found from the module and the
/// method's position.
pub trait MethodKeywords<'m, 'a, const METHOD: usize> {
    /// The module's generated builder.
    type Builder;
    /// How the method holds the module: [`Shared`] for `&self`, [`Mutable`] for
    /// `&mut self`.
    type Access: Access;
}

/// What `vmap!` sets a method's keywords on, as [`Keywords`] for `call!`.
pub struct VmapKeywords<'m, 'a, M: MethodVmapKeywords<'m, 'a, METHOD> + ?Sized, const METHOD: usize>(
    pub M::Builder,
    // `M: 'm`, implied wherever the wrapper is named, as the builder's borrow needs.
    pub PhantomData<&'m M>,
);

/// The builder of a method's keywords for `vmap!`.
pub trait MethodVmapKeywords<'m, 'a, const METHOD: usize> {
    /// The module's generated builder.
    type Builder;
}

macro_rules! keyword_wrapper {
    ($wrapper:ident, $lookup:ident) => {
        impl<'m, 'a, M: $lookup<'m, 'a, METHOD> + ?Sized, const METHOD: usize>
            $wrapper<'m, 'a, M, METHOD>
        {
            /// The builder, once every keyword is set: called as `$wrapper::into_builder(k)`,
            /// since a method would hide a keyword of that name.
            #[inline]
            pub fn into_builder(keywords: Self) -> M::Builder {
                keywords.0
            }
        }

        impl<'m, 'a, M: $lookup<'m, 'a, METHOD> + ?Sized, const METHOD: usize> core::ops::Deref
            for $wrapper<'m, 'a, M, METHOD>
        {
            type Target = M::Builder;

            #[inline]
            fn deref(&self) -> &M::Builder {
                &self.0
            }
        }

        impl<'m, 'a, M: $lookup<'m, 'a, METHOD> + ?Sized, const METHOD: usize> core::ops::DerefMut
            for $wrapper<'m, 'a, M, METHOD>
        {
            #[inline]
            fn deref_mut(&mut self) -> &mut M::Builder {
                &mut self.0
            }
        }
    };
}

keyword_wrapper!(Keywords, MethodKeywords);

impl<'m, 'a, M: MethodKeywords<'m, 'a, METHOD> + ?Sized, const METHOD: usize>
    Keywords<'m, 'a, M, METHOD>
{
    /// The borrow of `M` the method needs, for [`ModuleBorrow::enter`]. An associated
    /// function, as `into_builder` is: a method would hide a keyword named `needs`.
    #[inline]
    pub fn needs(_: &Self) -> Needs<M, M::Access> {
        Needs(PhantomData)
    }
}

keyword_wrapper!(VmapKeywords, MethodVmapKeywords);

/// The type a borrow (`&T` or `&mut T`) is of: the module, or a pointer to it (`&M`,
/// `Box<M>`, ..., whose tables forward to the module's). Fixes the type from how it was
/// borrowed, and [`Methods`] finds its table from it.
pub trait Borrowed {
    /// `M`.
    type Module: ?Sized;
}

impl<M: ?Sized> Borrowed for &M {
    type Module = M;
}

impl<M: ?Sized> Borrowed for &mut M {
    type Module = M;
}

/// A module whose `#[module] impl` marks a `#[call]` method, for `call!(m(..))` and
/// `vmap!(m(..))`: its tables, which have that method under a name no user method can
/// take. (Tables of its own, so that a module without one is this message only.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[call]` method, so it cannot be called as `m(..)`",
    label = "called as a function",
    note = "name the method (`call!(m.method(..))`), or mark the method `m(..)` means with `#[call]` in its `#[module] impl`"
)]
pub trait CallMethod {
    /// [`ModuleMethods::Table`] for the `#[call]` method, holding the borrow `R` the
    /// call runs on ([`Receiving`]).
    type CallTable<R>;
    /// [`ModuleMethods::VmapTable`].
    type VmapTable;

    /// The table of calls on `receiver`, for any borrow.
    fn call_through<R>(receiver: R) -> Self::CallTable<R>;

    /// The table of vmap entries.
    fn vmap_through() -> Self::VmapTable;

    /// The table of calls on `receiver`.
    fn call<R: Borrowed<Module = Self>>(receiver: R) -> Self::CallTable<R> {
        Self::call_through(receiver)
    }

    /// The table of vmap entries.
    fn vmap<R: Borrowed<Module = Self>>(receiver: R) -> Self::VmapTable {
        let _ = receiver;
        Self::vmap_through()
    }
}

/// An argument for a parameter whose type uses the method's own type parameters: taken
/// as it is, since any other conversion would leave that type ambiguous.
pub struct Exact<T>(pub T);

impl<T> IntoArg<Exact<T>> for T {
    fn into_arg(self) -> Exact<T> {
        Exact(self)
    }
}

/// How many outputs a vmapped method has, as `vmap!`'s out_axes check sees it.
pub struct Outputs<const N: usize>;

/// An output's axes type with `N` axes in it, built from the axes out_axes wrote.
pub trait AxesOf<const N: usize>: Sized {
    /// The axes, one per output.
    fn from_axes(axes: [isize; N]) -> Self;
}

impl AxesOf<1> for isize {
    fn from_axes([axis]: [isize; 1]) -> isize {
        axis
    }
}

impl AxesOf<2> for (isize, isize) {
    fn from_axes([first, second]: [isize; 2]) -> (isize, isize) {
        (first, second)
    }
}

/// A `vmap!` entry, named after the method it enters, of a method of `M`. (A parameter,
/// not an associated type, which would reveal a private module's type.)
pub trait VmapEntry<M: ?Sized> {
    /// How one module shared by every example is held: [`Mutable`] only for a
    /// `&mut self` method with a batching rule.
    type Broadcast: Access;
    /// How a `Stacked` receiver is held (`self = 0`): as the method takes `self`.
    type Stacked: Access;

    /// The borrow of `M` the entry's `__broadcast` takes, for [`ModuleBorrow::enter`].
    #[inline]
    fn broadcast_needs(&self) -> Needs<M, Self::Broadcast> {
        Needs(PhantomData)
    }

    /// The borrow of the `Stacked<M>` the entry's `__stacked` takes.
    #[inline]
    fn stacked_needs(&self) -> Needs<Stacked<M>, Self::Stacked>
    where
        M: Sized,
    {
        Needs(PhantomData)
    }
}

/// How a method holds its module, as a type: [`Shared`] (`&self`) or [`Mutable`]
/// (`&mut self`).
pub trait Access {
    /// `&'m M` or `&'m mut M`.
    type Borrow<'m, M: ?Sized + 'm>;
}

/// A `&self` method's access.
pub struct Shared;

/// A `&mut self` method's access.
pub struct Mutable;

impl Access for Shared {
    type Borrow<'m, M: ?Sized + 'm> = &'m M;
}

impl Access for Mutable {
    type Borrow<'m, M: ?Sized + 'm> = &'m mut M;
}

/// The borrow a method needs: of module `M`, with access `A`. The `Self` of
/// [`ModuleBorrow`], passed first, so that the access is known before the receiver is
/// checked against it.
pub struct Needs<M: ?Sized, A>(PhantomData<fn() -> (*const M, A)>);

/// The receivers `R` a method needing access `A` to module `M` can run on: `call!` and
/// `vmap!` call `ModuleBorrow::enter(needs, receiver)` once the method is known, at the
/// user's receiver, so a `&mut self` method on a module behind `&` is this message,
/// there. (A trait function rather than a bound on the generated method: rustc then
/// names no generated item.) Each impl is hidden from rustc's list of other
/// implementations: the note says what to do instead.
#[diagnostic::on_unimplemented(
    message = "this method takes `&mut self`, and the `{M}` here is borrowed shared",
    label = "needs a mutable borrow of the `{M}`",
    note = "call it on a mutable binding (`let mut`), and reach the `{M}` through `&mut` or `Box` only, not through `&`, `Rc` or `Arc`"
)]
pub trait ModuleBorrow<'m, M: ?Sized + 'm, A: Access, R> {
    /// The module, as the method takes it.
    fn enter(self, receiver: R) -> A::Borrow<'m, M>;
}

/// A `&self` method runs on a shared borrow of anything that points to its module, as
/// a method call's autoderef would reach it (`&&M` from `Vec<&M>::iter()`, `&Rc<M>`).
#[diagnostic::do_not_recommend]
impl<'m, M: ?Sized + 'm, P: PointsTo<M> + ?Sized> ModuleBorrow<'m, M, Shared, &'m P>
    for Needs<M, Shared>
{
    #[inline]
    fn enter(self, receiver: &'m P) -> &'m M {
        receiver.module()
    }
}

/// ... and on a unique one: the pick borrows a receiver whose type is already `&mut _`
/// as it is (`m: &mut Linear`), as method resolution takes the receiver by value first.
#[diagnostic::do_not_recommend]
impl<'m, M: ?Sized + 'm, P: PointsTo<M> + ?Sized> ModuleBorrow<'m, M, Shared, &'m mut P>
    for Needs<M, Shared>
{
    #[inline]
    fn enter(self, receiver: &'m mut P) -> &'m M {
        let shared: &'m P = receiver;
        shared.module()
    }
}

/// A `&mut self` method runs on a unique borrow through unique pointers only (`&mut`,
/// `Box`): not through `&`, `Rc` or `Arc`, as a direct call would not.
#[diagnostic::do_not_recommend]
impl<'m, M: ?Sized + 'm, P: PointsToMut<M> + ?Sized> ModuleBorrow<'m, M, Mutable, &'m mut P>
    for Needs<M, Mutable>
{
    #[inline]
    fn enter(self, receiver: &'m mut P) -> &'m mut M {
        receiver.module_mut()
    }
}

/// The module `M` itself, or a pointer (through any number of `&`, `&mut`, `Box`, `Rc`,
/// `Arc`) to it. `#[module]` implements it for each module; a blanket impl for every
/// `M` would overlap with the pointer impls.
pub trait PointsTo<M: ?Sized> {
    /// The module, shared.
    fn module(&self) -> &M;
}

/// [`PointsTo`] through unique pointers only, so the module can be borrowed `&mut`.
pub trait PointsToMut<M: ?Sized>: PointsTo<M> {
    /// The module, unique.
    fn module_mut(&mut self) -> &mut M;
}

macro_rules! points_to {
    ($($ptr:ty),*) => {$(
        impl<M: ?Sized, P: PointsTo<M> + ?Sized> PointsTo<M> for $ptr {
            #[inline]
            fn module(&self) -> &M {
                (**self).module()
            }
        }
    )*};
}

points_to!(&P, &mut P, Box<P>, Rc<P>, Arc<P>);

macro_rules! points_to_mut {
    ($($ptr:ty),*) => {$(
        impl<M: ?Sized, P: PointsToMut<M> + ?Sized> PointsToMut<M> for $ptr {
            #[inline]
            fn module_mut(&mut self) -> &mut M {
                (**self).module_mut()
            }
        }
    )*};
}

points_to_mut!(&mut P, Box<P>);

impl<M> PointsTo<Stacked<M>> for Stacked<M> {
    #[inline]
    fn module(&self) -> &Stacked<M> {
        self
    }
}

impl<M> PointsToMut<Stacked<M>> for Stacked<M> {
    #[inline]
    fn module_mut(&mut self) -> &mut Stacked<M> {
        self
    }
}

/// Pointers and references look through to the module, as method calls do (`vmap!`
/// borrows what it is given, so a `&M` binding arrives as `&&M`).
macro_rules! look_through {
    ($($ty:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<M: ModuleMethods + ?Sized> ModuleMethods for $ty {
            type Table = M::Table;
            type VmapTable = M::VmapTable;
            type Calls<R> = Methods<R> where R: Borrowed<Module = Self>;
            type Vmaps = VmapMethods<Self>;
            type Same<R> = R;

            fn calls_through() -> Self::Table {
                M::calls_through()
            }

            fn vmaps_through() -> Self::VmapTable {
                M::vmaps_through()
            }

            fn calls<R: Borrowed<Module = Self>>(receiver: R) -> Methods<R> {
                Methods(receiver, Self::calls_through())
            }

            fn vmaps<R: Borrowed<Module = Self>>(_: R) -> VmapMethods<Self> {
                VmapMethods(Self::vmaps_through())
            }

            fn same<R: Borrowed<Module = Self>>(receiver: R) -> R {
                receiver
            }
        }

        #[diagnostic::do_not_recommend]
        impl<M: CallMethod + ?Sized> CallMethod for $ty {
            type CallTable<R> = M::CallTable<R>;
            type VmapTable = M::VmapTable;

            fn call_through<R>(receiver: R) -> Self::CallTable<R> {
                M::call_through(receiver)
            }

            fn vmap_through() -> Self::VmapTable {
                M::vmap_through()
            }
        }
    )*};
}

look_through!(Box<M>, Rc<M>, Arc<M>, &M, &mut M);

/// A pointer's module runs its `&self` methods shared, as the module does (so `call!`
/// on a `&&M`, from `Vec<&M>::iter()`, needs no `&mut` of the binding).
macro_rules! shared_through {
    ($($ptr:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<N, M: SharedMethod<N> + ?Sized> SharedMethod<N> for $ptr {}
    )*};
}

shared_through!(Box<M>, Rc<M>, Arc<M>, &M, &mut M);

/// A stack runs its members' `&self` methods shared (`vmap!` with `self = 0`, `scan!`),
/// also behind pointers.
#[diagnostic::do_not_recommend]
impl<N, M: SharedMethod<N>> SharedMethod<N> for Stacked<M> {}
