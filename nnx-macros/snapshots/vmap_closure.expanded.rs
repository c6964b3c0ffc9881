fn expansion() {
    let _ = {
        let per_example = |op: &LayerNorm, x: ArrayViewD<f32>| {
            trait __NnxPick29e09f137d5b1177 {
                fn __nnx_pick_29e09f137d5b1177(self) -> Self;
            }
            impl<
                M: ?::core::marker::Sized
                    + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
            > __NnxPick29e09f137d5b1177 for &M {
                #[inline]
                fn __nnx_pick_29e09f137d5b1177(self) -> Self {
                    self
                }
            }
            impl<T: ?::core::marker::Sized> __NnxPick29e09f137d5b1177 for &mut T {
                #[inline]
                fn __nnx_pick_29e09f137d5b1177(self) -> Self {
                    self
                }
            }
            match (
                ::nnx::__private::CallMethod::call(
                    ::nnx::__private::ModuleMethods::same(
                        (op).__nnx_pick_29e09f137d5b1177(),
                    ),
                ),
                ::nnx::__private::IntoArg::into_arg(None),
            ) {
                (table, value0) => {
                    let mut keywords = table.call();
                    keywords.mask(value0);
                    {
                        let needs = ::nnx::__private::Keywords::needs(&keywords);
                        ::nnx::__private::Keywords::into_builder(keywords)
                            .__on(
                                ::nnx::__private::ModuleBorrow::enter(
                                    {
                                        let needs = needs;
                                        needs
                                    },
                                    ::nnx::__private::Receiving::into_receiver(table),
                                ),
                            )
                            .__call(::nnx::__private::IntoArg::into_arg(x))
                    }
                }
            }
        };
        move |
            op: &LayerNorm,
            x: <ArrayViewD<f32> as ::nnx::__private::Mappable>::Batched,
        | -> ::nnx::__private::Result<_, ::nnx::__private::VmapError> {
            let mut batch = ::nnx::__private::BatchSize::new(
                ::core::option::Option::None,
            );
            let mut x = ::nnx::__private::Slot::<ArrayViewD<f32>>::Mapped {
                batched: x,
                axis: 0isize,
            };
            batch.add("x", x.check("x")?)?;
            let size = batch.finish()?;
            ::nnx::__private::map_examples(
                size,
                ::nnx::__private::IntoAxes::into_axes(::nnx::__private::DefaultAxes),
                |index| {
                    ::nnx::__private::Result::Ok(
                        per_example(
                            ::core::clone::Clone::clone(&op),
                            x.example(index, "x")?,
                        ),
                    )
                },
            )
        }
    };
}
