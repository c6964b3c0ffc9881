impl LayerNorm {
    pub fn forward(
        &self,
        x: ArrayViewD<f32>,
        mask: Option<ArrayViewD<bool>>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        self.numerics().forward(x, mask)
    }
    pub fn update(&mut self, x: ArrayViewD<f32>, rate: f32) -> ArrayD<f32> {
        self.step(x, rate)
    }
}
#[allow(dead_code)]
const _: () = {
    impl ::nnx::Signatures for LayerNorm {
        const METHODS: &'static [::nnx::MethodSignature] = &[
            ::nnx::MethodSignature {
                module: "LayerNorm",
                method: "forward",
                is_call: true,
                mutates: false,
                batched: true,
                params: &[
                    ::nnx::ParamInfo {
                        name: "x",
                        kind: ::nnx::ParamKind::Positional,
                        ty: "ArrayViewD<f32>",
                        default: ::core::option::Option::None,
                    },
                    ::nnx::ParamInfo {
                        name: "mask",
                        kind: ::nnx::ParamKind::Keyword,
                        ty: "Option<ArrayViewD<bool>>",
                        default: ::core::option::Option::Some("None"),
                    },
                ],
                output: "Result<ArrayD<f32>, ForwardError>",
            },
            ::nnx::MethodSignature {
                module: "LayerNorm",
                method: "update",
                is_call: false,
                mutates: true,
                batched: false,
                params: &[
                    ::nnx::ParamInfo {
                        name: "x",
                        kind: ::nnx::ParamKind::Positional,
                        ty: "ArrayViewD<f32>",
                        default: ::core::option::Option::None,
                    },
                    ::nnx::ParamInfo {
                        name: "rate",
                        kind: ::nnx::ParamKind::Keyword,
                        ty: "f32",
                        default: ::core::option::Option::Some("0.5"),
                    },
                ],
                output: "ArrayD<f32>",
            },
        ];
    }
    impl ::nnx::Callable for LayerNorm {
        fn call_signature() -> &'static ::nnx::MethodSignature {
            &<Self as ::nnx::Signatures>::METHODS[0usize]
        }
    }
    #[allow(private_interfaces, private_bounds)]
    impl LayerNorm {
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_call_forward<'__m, '__a>(
            &'__m self,
        ) -> LayerNorm_forward_Call<'__m, '__a> {
            LayerNorm_forward_Call {
                __recv: self,
                mask: ::core::default::Default::default(),
                __marker: ::nnx::__private::PhantomData,
            }
        }
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_call<'__m, '__a>(&'__m self) -> LayerNorm_forward_Call<'__m, '__a> {
            self.__nnx_call_forward()
        }
        /// The receiver only fixes the type: `vmap!` passes the module (or stack) next.
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_vmap_forward<'__m, '__a>(
            &self,
        ) -> LayerNorm_forward_VmapEntry<'__m, '__a> {
            LayerNorm_forward_VmapEntry {
                __marker: ::nnx::__private::PhantomData,
            }
        }
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_vmap<'__m, '__a>(&self) -> LayerNorm_forward_VmapEntry<'__m, '__a> {
            self.__nnx_vmap_forward()
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_forward_Call<'__m, '__a> {
        __recv: &'__m LayerNorm,
        mask: Option<ArrayViewD<'__a, bool>>,
        __marker: ::nnx::__private::PhantomData<&'__a ()>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a> LayerNorm_forward_Call<'__m, '__a> {
        #[inline]
        pub fn mask(
            mut self,
            mask: impl ::nnx::__private::IntoArg<Option<ArrayViewD<'__a, bool>>>,
        ) -> Self {
            self.mask = ::nnx::__private::IntoArg::into_arg(mask);
            self
        }
        #[inline]
        pub fn __call(
            self,
            x: impl ::nnx::__private::IntoArg<ArrayViewD<'__a, f32>>,
        ) -> Result<ArrayD<f32>, ForwardError> {
            self.__recv.forward(::nnx::__private::IntoArg::into_arg(x), self.mask)
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_forward_VmapEntry<'__m, '__a> {
        __marker: ::nnx::__private::PhantomData<(&'__m LayerNorm, &'__a ())>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a> LayerNorm_forward_VmapEntry<'__m, '__a> {
        #[inline]
        pub fn __broadcast<__G: ::nnx::__private::MayBroadcast>(
            self,
            module: &'__m LayerNorm,
        ) -> LayerNorm_forward_Vmap<'__m, '__a, ::nnx::__private::DefaultAxes> {
            LayerNorm_forward_Vmap {
                __recv: ::nnx::__private::Receiver::Broadcast(module),
                mask: ::nnx::__private::Slot::Broadcast(
                    ::core::default::Default::default(),
                ),
                __out_axes: ::nnx::__private::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: ::nnx::__private::PhantomData,
            }
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'__m ::nnx::__private::Stacked<LayerNorm>,
        ) -> LayerNorm_forward_Vmap<'__m, '__a, ::nnx::__private::DefaultAxes> {
            LayerNorm_forward_Vmap {
                __recv: ::nnx::__private::Receiver::Stacked(stack),
                mask: ::nnx::__private::Slot::Broadcast(
                    ::core::default::Default::default(),
                ),
                __out_axes: ::nnx::__private::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: ::nnx::__private::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_forward_Vmap<'__m, '__a, __O> {
        __recv: ::nnx::__private::Receiver<'__m, LayerNorm>,
        mask: ::nnx::__private::Slot<Option<ArrayViewD<'__a, bool>>>,
        __out_axes: __O,
        __axis_size: ::core::option::Option<usize>,
        __marker: ::nnx::__private::PhantomData<&'__a ()>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a, __O> LayerNorm_forward_Vmap<'__m, '__a, __O> {
        #[inline]
        pub fn mask(
            mut self,
            mask: impl ::nnx::__private::IntoSlot<Option<ArrayViewD<'__a, bool>>>,
        ) -> Self {
            self.mask = ::nnx::__private::IntoSlot::into_slot(mask);
            self
        }
        #[inline]
        pub fn __axis_size(mut self, size: usize) -> Self {
            self.__axis_size = ::core::option::Option::Some(size);
            self
        }
        #[inline]
        pub fn __out_axes<__P>(
            self,
            axes: __P,
        ) -> LayerNorm_forward_Vmap<'__m, '__a, __P> {
            LayerNorm_forward_Vmap {
                __recv: self.__recv,
                mask: self.mask,
                __out_axes: axes,
                __axis_size: self.__axis_size,
                __marker: ::nnx::__private::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            x: impl ::nnx::__private::IntoSlot<ArrayViewD<'__a, f32>>,
        ) -> ::nnx::__private::Result<
            <Result<ArrayD<f32>, ForwardError> as ::nnx::__private::Stackable>::Batched,
            ::nnx::__private::VmapError,
        >
        where
            Result<ArrayD<f32>, ForwardError>: ::nnx::__private::Stackable,
            __O: ::nnx::__private::IntoAxes<
                <Result<ArrayD<f32>, ForwardError> as ::nnx::__private::Stackable>::Axes,
            >,
        {
            let mut x = ::nnx::__private::IntoSlot::into_slot(x);
            let mut mask = self.mask;
            let mut batch = ::nnx::__private::BatchSize::new(self.__axis_size);
            batch.add("x", x.check("x")?)?;
            batch.add("mask", mask.check("mask")?)?;
            let axes = ::nnx::__private::IntoAxes::into_axes(self.__out_axes);
            match self.__recv {
                ::nnx::__private::Receiver::Broadcast(module) => {
                    let size = batch.finish()?;
                    module
                        .forward_batched(
                            x,
                            mask,
                            ::nnx::__private::Batch {
                                size: size,
                                out_axes: axes,
                            },
                        )
                }
                ::nnx::__private::Receiver::Stacked(stack) => {
                    batch.add("self", ::core::option::Option::Some(stack.len()))?;
                    let size = batch.finish()?;
                    ::nnx::__private::map_examples::<
                        Result<ArrayD<f32>, ForwardError>,
                    >(
                        size,
                        axes,
                        |index| {
                            ::nnx::__private::Result::Ok(
                                stack
                                    .members()[index]
                                    .forward(
                                        x.example(index, "x")?,
                                        mask.example(index, "mask")?,
                                    ),
                            )
                        },
                    )
                }
            }
        }
    }
    #[allow(private_interfaces, private_bounds)]
    impl LayerNorm {
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_call_update<'__m, '__a>(
            &'__m mut self,
        ) -> LayerNorm_update_Call<'__m, '__a> {
            LayerNorm_update_Call {
                __recv: self,
                rate: 0.5,
                __marker: ::nnx::__private::PhantomData,
            }
        }
        /// The receiver only fixes the type: `vmap!` passes the module (or stack) next.
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_vmap_update<'__m, '__a>(
            &self,
        ) -> LayerNorm_update_VmapEntry<'__m, '__a> {
            LayerNorm_update_VmapEntry {
                __marker: ::nnx::__private::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_update_Call<'__m, '__a> {
        __recv: &'__m mut LayerNorm,
        rate: f32,
        __marker: ::nnx::__private::PhantomData<&'__a ()>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a> LayerNorm_update_Call<'__m, '__a> {
        #[inline]
        pub fn rate(mut self, rate: impl ::nnx::__private::IntoArg<f32>) -> Self {
            self.rate = ::nnx::__private::IntoArg::into_arg(rate);
            self
        }
        #[inline]
        pub fn __call(
            self,
            x: impl ::nnx::__private::IntoArg<ArrayViewD<'__a, f32>>,
        ) -> ArrayD<f32> {
            self.__recv.update(::nnx::__private::IntoArg::into_arg(x), self.rate)
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_update_VmapEntry<'__m, '__a> {
        __marker: ::nnx::__private::PhantomData<(&'__m LayerNorm, &'__a ())>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a> LayerNorm_update_VmapEntry<'__m, '__a> {
        #[inline]
        #[allow(unreachable_code)]
        pub fn __broadcast<__G: LayerNorm_update_MutatesSelf>(
            self,
            _module: &'__m LayerNorm,
        ) -> LayerNorm_update_Vmap<'__m, '__a, ::nnx::__private::DefaultAxes> {
            match <__G as LayerNorm_update_MutatesSelf>::refuse() {}
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'__m mut ::nnx::__private::Stacked<LayerNorm>,
        ) -> LayerNorm_update_Vmap<'__m, '__a, ::nnx::__private::DefaultAxes> {
            LayerNorm_update_Vmap {
                __recv: ::nnx::__private::ReceiverMut::Stacked(stack),
                rate: ::nnx::__private::Slot::Broadcast(0.5),
                __out_axes: ::nnx::__private::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: ::nnx::__private::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    pub struct LayerNorm_update_Vmap<'__m, '__a, __O> {
        __recv: ::nnx::__private::ReceiverMut<'__m, LayerNorm>,
        rate: ::nnx::__private::Slot<f32>,
        __out_axes: __O,
        __axis_size: ::core::option::Option<usize>,
        __marker: ::nnx::__private::PhantomData<&'__a ()>,
    }
    #[allow(private_interfaces, private_bounds)]
    impl<'__m, '__a, __O> LayerNorm_update_Vmap<'__m, '__a, __O> {
        #[inline]
        pub fn rate(mut self, rate: impl ::nnx::__private::IntoSlot<f32>) -> Self {
            self.rate = ::nnx::__private::IntoSlot::into_slot(rate);
            self
        }
        #[inline]
        pub fn __axis_size(mut self, size: usize) -> Self {
            self.__axis_size = ::core::option::Option::Some(size);
            self
        }
        #[inline]
        pub fn __out_axes<__P>(
            self,
            axes: __P,
        ) -> LayerNorm_update_Vmap<'__m, '__a, __P> {
            LayerNorm_update_Vmap {
                __recv: self.__recv,
                rate: self.rate,
                __out_axes: axes,
                __axis_size: self.__axis_size,
                __marker: ::nnx::__private::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            x: impl ::nnx::__private::IntoSlot<ArrayViewD<'__a, f32>>,
        ) -> ::nnx::__private::Result<
            <ArrayD<f32> as ::nnx::__private::Stackable>::Batched,
            ::nnx::__private::VmapError,
        >
        where
            ArrayD<f32>: ::nnx::__private::Stackable,
            __O: ::nnx::__private::IntoAxes<
                <ArrayD<f32> as ::nnx::__private::Stackable>::Axes,
            >,
        {
            let mut x = ::nnx::__private::IntoSlot::into_slot(x);
            let mut rate = self.rate;
            let mut batch = ::nnx::__private::BatchSize::new(self.__axis_size);
            batch.add("x", x.check("x")?)?;
            batch.add("rate", rate.check("rate")?)?;
            let axes = ::nnx::__private::IntoAxes::into_axes(self.__out_axes);
            match self.__recv {
                ::nnx::__private::ReceiverMut::Stacked(stack) => {
                    batch.add("self", ::core::option::Option::Some(stack.len()))?;
                    let size = batch.finish()?;
                    ::nnx::__private::map_examples::<
                        ArrayD<f32>,
                    >(
                        size,
                        axes,
                        |index| {
                            ::nnx::__private::Result::Ok(
                                stack
                                    .members_mut()[index]
                                    .update(
                                        x.example(index, "x")?,
                                        rate.example(index, "rate")?,
                                    ),
                            )
                        },
                    )
                }
            }
        }
    }
    #[doc(hidden)]
    #[allow(non_camel_case_types, private_interfaces, private_bounds)]
    #[diagnostic::on_unimplemented(
        message = "`LayerNorm::update` takes `&mut self`, so vmap! cannot broadcast the module",
        label = "every example would mutate the same module",
        note = "stack the module (`Stacked::new(n, ..)`) and map it with `in_axes = (self = 0, ..)`: each example then mutates its own member"
    )]
    pub trait LayerNorm_update_MutatesSelf {
        fn refuse() -> ::core::convert::Infallible;
    }
};
