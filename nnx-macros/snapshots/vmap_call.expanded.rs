fn expansion() {
    let _ = {
        #[diagnostic::on_unimplemented(
            message = "vmap! cannot broadcast `ln`: its `#[call]` method takes `&mut self`",
            label = "the `#[call]` method takes `&mut self`: every example would mutate the same module",
            note = "stack the module (`Stacked::new(n, ..)`) and map it with `in_axes = (.., self = 0)`: each example then mutates its own member; a method with a batching rule (BatchNorm's) may instead share it with `self = None`, the rule then mutating it once for the whole batch"
        )]
        trait MayBroadcast {
            #[inline]
            fn check<E: ::nnx::__private::VmapEntry<Self>>(entry: E) -> E {
                entry
            }
        }
        #[diagnostic::do_not_recommend]
        impl<
            M: ?::core::marker::Sized
                + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > MayBroadcast for M {}
        trait __NnxPick63dbc295920fe8c1 {
            fn __nnx_pick_63dbc295920fe8c1(self) -> Self;
        }
        impl<
            M: ?::core::marker::Sized
                + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > __NnxPick63dbc295920fe8c1 for &M {
            #[inline]
            fn __nnx_pick_63dbc295920fe8c1(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> __NnxPick63dbc295920fe8c1 for &mut T {
            #[inline]
            fn __nnx_pick_63dbc295920fe8c1(self) -> Self {
                self
            }
        }
        let module = (ln).__nnx_pick_63dbc295920fe8c1();
        match (
            <_ as MayBroadcast>::check(
                ::nnx::__private::CallMethod::vmap(
                        ::nnx::__private::ModuleMethods::same(&*module),
                    )
                    .call(),
            ),
            ::nnx::__private::Slot::Mapped {
                batched: ::nnx::__private::IntoArg::into_arg(
                    ::nnx::__private::BatchView::view_of(&(ms)),
                ),
                axis: 1isize,
            },
        ) {
            (entry, value0) => {
                let mut keywords = {
                    let needs = ::nnx::__private::VmapEntry::broadcast_needs(&entry);
                    entry
                        .__broadcast(
                            ::nnx::__private::ModuleBorrow::enter(
                                {
                                    let needs = needs;
                                    needs
                                },
                                module,
                            ),
                        )
                };
                keywords.mask(value0);
                ::nnx::__private::VmapKeywords::into_builder(keywords)
                    .__out_axes(|outputs| {
                        #[diagnostic::on_unimplemented(
                            message = "`ln(..)` returns {N} output(s); out_axes gives 1",
                            label = "1 axis, one per output",
                            note = "give one axis per output (a tuple for several), or a single axis for all of them"
                        )]
                        trait OutAxesFit<const N: usize>: ::core::marker::Sized {
                            fn fit(
                                outputs: ::nnx::__private::Outputs<N>,
                                axes: [isize; 1usize],
                            ) -> Self;
                        }
                        impl<A, const N: usize> OutAxesFit<N> for A
                        where
                            isize: ::nnx::__private::IntoAxes<A>,
                        {
                            #[inline]
                            fn fit(
                                _: ::nnx::__private::Outputs<N>,
                                axes: [isize; 1],
                            ) -> A {
                                ::nnx::__private::IntoAxes::into_axes(axes[0])
                            }
                        }
                        <_ as OutAxesFit<_>>::fit(outputs, [1isize])
                    })
                    .__run(::nnx::__private::Slot::Mapped {
                        batched: ::nnx::__private::IntoArg::into_arg(
                            ::nnx::__private::BatchView::view_of(&(xs)),
                        ),
                        axis: 1isize,
                    })
            }
        }
    };
}
