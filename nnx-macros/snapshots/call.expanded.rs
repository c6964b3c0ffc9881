fn expansion() {
    let _ = {
        trait __NnxPickf4f76b9769b50b27 {
            fn __nnx_pick_f4f76b9769b50b27(self) -> Self;
        }
        impl<
            M: ?::core::marker::Sized
                + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > __NnxPickf4f76b9769b50b27 for &M {
            #[inline]
            fn __nnx_pick_f4f76b9769b50b27(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> __NnxPickf4f76b9769b50b27 for &mut T {
            #[inline]
            fn __nnx_pick_f4f76b9769b50b27(self) -> Self {
                self
            }
        }
        match (
            ::nnx::__private::CallMethod::call(
                ::nnx::__private::ModuleMethods::same((ln).__nnx_pick_f4f76b9769b50b27()),
            ),
            ::nnx::__private::IntoArg::into_arg(m.view()),
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
                        .__call(::nnx::__private::IntoArg::into_arg(x.view()))
                }
            }
        }
    };
}
