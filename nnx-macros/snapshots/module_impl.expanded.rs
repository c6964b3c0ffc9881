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
#[allow(
    dead_code,
    non_camel_case_types,
    private_interfaces,
    private_bounds,
    clippy::wrong_self_convention
)]
const _: () = {
    use ::nnx::__private as __nnx;
    impl __nnx::Signatures for LayerNorm {
        const METHODS: &'static [__nnx::MethodSignature] = &[
            __nnx::MethodSignature {
                module: "LayerNorm",
                method: "forward",
                is_call: true,
                mutates: false,
                batched: true,
                params: &[
                    __nnx::ParamInfo {
                        name: "x",
                        kind: __nnx::ParamKind::Positional,
                        ty: "ArrayViewD<f32>",
                        default: __nnx::Option::None,
                    },
                    __nnx::ParamInfo {
                        name: "mask",
                        kind: __nnx::ParamKind::Keyword,
                        ty: "Option<ArrayViewD<bool>>",
                        default: __nnx::Option::Some("None"),
                    },
                ],
                output: "Result<ArrayD<f32>, ForwardError>",
            },
            __nnx::MethodSignature {
                module: "LayerNorm",
                method: "update",
                is_call: false,
                mutates: true,
                batched: false,
                params: &[
                    __nnx::ParamInfo {
                        name: "x",
                        kind: __nnx::ParamKind::Positional,
                        ty: "ArrayViewD<f32>",
                        default: __nnx::Option::None,
                    },
                    __nnx::ParamInfo {
                        name: "rate",
                        kind: __nnx::ParamKind::Keyword,
                        ty: "f32",
                        default: __nnx::Option::Some("0.5"),
                    },
                ],
                output: "ArrayD<f32>",
            },
        ];
    }
    impl __nnx::Callable for LayerNorm {
        fn call_signature() -> &'static __nnx::MethodSignature {
            &<Self as __nnx::Signatures>::METHODS[0usize]
        }
    }
    impl LayerNorm {
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_call_forward<'__m, '__a>(
            &'__m self,
        ) -> LayerNorm_forward_Call<'__m, '__a> {
            LayerNorm_forward_Call {
                __recv: self,
                mask: ::core::default::Default::default(),
                __marker: __nnx::PhantomData,
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
                __marker: __nnx::PhantomData,
            }
        }
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_vmap<'__m, '__a>(&self) -> LayerNorm_forward_VmapEntry<'__m, '__a> {
            self.__nnx_vmap_forward()
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_Call<'__m, '__a> {
        __recv: &'__m LayerNorm,
        mask: Option<ArrayViewD<'__a, bool>>,
        __marker: __nnx::PhantomData<&'__a ()>,
    }
    impl<'__m, '__a> LayerNorm_forward_Call<'__m, '__a> {
        #[inline]
        pub fn mask(
            mut self,
            mask: impl __nnx::IntoArg<Option<ArrayViewD<'__a, bool>>>,
        ) -> Self {
            self.mask = __nnx::IntoArg::into_arg(mask);
            self
        }
        #[inline]
        pub fn __call(
            self,
            x: impl __nnx::IntoArg<ArrayViewD<'__a, f32>>,
        ) -> Result<ArrayD<f32>, ForwardError> {
            self.__recv.forward(__nnx::IntoArg::into_arg(x), self.mask)
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_VmapEntry<'__m, '__a> {
        __marker: __nnx::PhantomData<(&'__m LayerNorm, &'__a ())>,
    }
    impl<'__m, '__a> LayerNorm_forward_VmapEntry<'__m, '__a> {
        #[inline]
        pub fn __broadcast<__G: __nnx::MayBroadcast>(
            self,
            module: &'__m LayerNorm,
        ) -> LayerNorm_forward_Vmap<'__m, '__a, __nnx::DefaultAxes> {
            LayerNorm_forward_Vmap {
                __recv: __nnx::Receiver::Broadcast(module),
                mask: __nnx::Slot::Broadcast(::core::default::Default::default()),
                __out_axes: __nnx::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: __nnx::PhantomData,
            }
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'__m __nnx::Stacked<LayerNorm>,
        ) -> LayerNorm_forward_Vmap<'__m, '__a, __nnx::DefaultAxes> {
            LayerNorm_forward_Vmap {
                __recv: __nnx::Receiver::Stacked(stack),
                mask: __nnx::Slot::Broadcast(::core::default::Default::default()),
                __out_axes: __nnx::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: __nnx::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_Vmap<'__m, '__a, __O> {
        __recv: __nnx::Receiver<'__m, LayerNorm>,
        mask: __nnx::Slot<Option<ArrayViewD<'__a, bool>>>,
        __out_axes: __O,
        __axis_size: ::core::option::Option<usize>,
        __marker: __nnx::PhantomData<&'__a ()>,
    }
    impl<'__m, '__a, __O> LayerNorm_forward_Vmap<'__m, '__a, __O> {
        #[inline]
        pub fn mask(
            mut self,
            mask: impl __nnx::IntoSlot<Option<ArrayViewD<'__a, bool>>>,
        ) -> Self {
            self.mask = __nnx::IntoSlot::into_slot(mask);
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
                __marker: __nnx::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            x: impl __nnx::IntoSlot<ArrayViewD<'__a, f32>>,
        ) -> __nnx::Result<
            <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Batched,
            __nnx::VmapError,
        >
        where
            Result<ArrayD<f32>, ForwardError>: __nnx::Stackable,
            __O: __nnx::IntoAxes<
                <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Axes,
            >,
        {
            let mut x = __nnx::IntoSlot::into_slot(x);
            let mut mask = self.mask;
            let mut batch = __nnx::BatchSize::new(self.__axis_size);
            batch.add("x", x.check("x")?)?;
            batch.add("mask", mask.check("mask")?)?;
            let axes = __nnx::IntoAxes::into_axes(self.__out_axes);
            match self.__recv {
                __nnx::Receiver::Broadcast(module) => {
                    let size = batch.finish()?;
                    module
                        .forward_batched(
                            x,
                            mask,
                            __nnx::Batch {
                                size: size,
                                out_axes: axes,
                            },
                        )
                }
                __nnx::Receiver::Stacked(stack) => {
                    batch.add("self", ::core::option::Option::Some(stack.len()))?;
                    let size = batch.finish()?;
                    __nnx::map_examples::<
                        Result<ArrayD<f32>, ForwardError>,
                    >(
                        size,
                        axes,
                        |index| {
                            __nnx::Result::Ok(
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
    impl LayerNorm {
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_call_update<'__m, '__a>(
            &'__m mut self,
        ) -> LayerNorm_update_Call<'__m, '__a> {
            LayerNorm_update_Call {
                __recv: self,
                rate: 0.5,
                __marker: __nnx::PhantomData,
            }
        }
        /// The receiver only fixes the type: `vmap!` passes the module (or stack) next.
        #[doc(hidden)]
        #[inline]
        pub fn __nnx_vmap_update<'__m, '__a>(
            &self,
        ) -> LayerNorm_update_VmapEntry<'__m, '__a> {
            LayerNorm_update_VmapEntry {
                __marker: __nnx::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_Call<'__m, '__a> {
        __recv: &'__m mut LayerNorm,
        rate: f32,
        __marker: __nnx::PhantomData<&'__a ()>,
    }
    impl<'__m, '__a> LayerNorm_update_Call<'__m, '__a> {
        #[inline]
        pub fn rate(mut self, rate: impl __nnx::IntoArg<f32>) -> Self {
            self.rate = __nnx::IntoArg::into_arg(rate);
            self
        }
        #[inline]
        pub fn __call(
            self,
            x: impl __nnx::IntoArg<ArrayViewD<'__a, f32>>,
        ) -> ArrayD<f32> {
            self.__recv.update(__nnx::IntoArg::into_arg(x), self.rate)
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_VmapEntry<'__m, '__a> {
        __marker: __nnx::PhantomData<(&'__m LayerNorm, &'__a ())>,
    }
    impl<'__m, '__a> LayerNorm_update_VmapEntry<'__m, '__a> {
        #[inline]
        #[allow(unreachable_code)]
        pub fn __broadcast<__G: LayerNorm_update_MutatesSelf>(
            self,
            _module: &'__m LayerNorm,
        ) -> LayerNorm_update_Vmap<'__m, '__a, __nnx::DefaultAxes> {
            match <__G as LayerNorm_update_MutatesSelf>::refuse() {}
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'__m mut __nnx::Stacked<LayerNorm>,
        ) -> LayerNorm_update_Vmap<'__m, '__a, __nnx::DefaultAxes> {
            LayerNorm_update_Vmap {
                __recv: __nnx::ReceiverMut::Stacked(stack),
                rate: __nnx::Slot::Broadcast(0.5),
                __out_axes: __nnx::DefaultAxes,
                __axis_size: ::core::option::Option::None,
                __marker: __nnx::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_Vmap<'__m, '__a, __O> {
        __recv: __nnx::ReceiverMut<'__m, LayerNorm>,
        rate: __nnx::Slot<f32>,
        __out_axes: __O,
        __axis_size: ::core::option::Option<usize>,
        __marker: __nnx::PhantomData<&'__a ()>,
    }
    impl<'__m, '__a, __O> LayerNorm_update_Vmap<'__m, '__a, __O> {
        #[inline]
        pub fn rate(mut self, rate: impl __nnx::IntoSlot<f32>) -> Self {
            self.rate = __nnx::IntoSlot::into_slot(rate);
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
                __marker: __nnx::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            x: impl __nnx::IntoSlot<ArrayViewD<'__a, f32>>,
        ) -> __nnx::Result<<ArrayD<f32> as __nnx::Stackable>::Batched, __nnx::VmapError>
        where
            ArrayD<f32>: __nnx::Stackable,
            __O: __nnx::IntoAxes<<ArrayD<f32> as __nnx::Stackable>::Axes>,
        {
            let mut x = __nnx::IntoSlot::into_slot(x);
            let mut rate = self.rate;
            let mut batch = __nnx::BatchSize::new(self.__axis_size);
            batch.add("x", x.check("x")?)?;
            batch.add("rate", rate.check("rate")?)?;
            let axes = __nnx::IntoAxes::into_axes(self.__out_axes);
            match self.__recv {
                __nnx::ReceiverMut::Stacked(stack) => {
                    batch.add("self", ::core::option::Option::Some(stack.len()))?;
                    let size = batch.finish()?;
                    __nnx::map_examples::<
                        ArrayD<f32>,
                    >(
                        size,
                        axes,
                        |index| {
                            __nnx::Result::Ok(
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
    #[diagnostic::on_unimplemented(
        message = "`LayerNorm::update` takes `&mut self`, so vmap! cannot broadcast the module",
        label = "every example would mutate the same module",
        note = "stack the module (`Stacked::new(n, ..)`) and map it with `in_axes = (self = 0, ..)`: each example then mutates its own member"
    )]
    pub trait LayerNorm_update_MutatesSelf {
        fn refuse() -> ::core::convert::Infallible;
    }
};
