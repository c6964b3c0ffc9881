fn expansion() {
    let _ = {
        trait __NnxPick2b6008f2398c5faf {
            fn __nnx_pick_2b6008f2398c5faf(self) -> Self;
        }
        impl<
            M: ?::core::marker::Sized
                + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > __NnxPick2b6008f2398c5faf for &M {
            #[inline]
            fn __nnx_pick_2b6008f2398c5faf(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> __NnxPick2b6008f2398c5faf for &mut T {
            #[inline]
            fn __nnx_pick_2b6008f2398c5faf(self) -> Self {
                self
            }
        }
        let stack = (ensemble).__nnx_pick_2b6008f2398c5faf();
        match (
            ::nnx::__private::CallMethod::vmap(
                    ::nnx::__private::ModuleMethods::same(
                        ::nnx::__private::StackedReceiver::first({
                            let receiver = &*stack;
                            receiver
                        }),
                    ),
                )
                .call(),
        ) {
            (entry,) => {
                let keywords = {
                    let needs = ::nnx::__private::VmapEntry::stacked_needs(&entry);
                    entry
                        .__stacked(
                            ::nnx::__private::ModuleBorrow::enter(
                                {
                                    let needs = needs;
                                    needs
                                },
                                stack,
                            ),
                        )
                };
                ::nnx::__private::VmapKeywords::into_builder(keywords)
                    .__run(::nnx::__private::Slot::Mapped {
                        batched: ::nnx::__private::IntoArg::into_arg(
                            ::nnx::__private::BatchView::view_of(&(xs)),
                        ),
                        axis: 0isize,
                    })
            }
        }
    };
}
