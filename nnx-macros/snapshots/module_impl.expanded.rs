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
    clippy::wrong_self_convention,
    clippy::needless_lifetimes
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
    pub struct LayerNorm_methods(__nnx::PhantomData<fn() -> LayerNorm>);
    pub struct LayerNorm_vmap_methods(__nnx::PhantomData<fn() -> LayerNorm>);
    impl __nnx::ModuleMethods for LayerNorm {
        type Table = LayerNorm_methods;
        type VmapTable = LayerNorm_vmap_methods;
        type Calls<R> = __nnx::Methods<R> where R: __nnx::Borrowed<Module = Self>;
        type Vmaps = __nnx::VmapMethods<Self>;
        type Same<R> = R;
        #[inline]
        fn calls_through() -> Self::Table {
            LayerNorm_methods(__nnx::PhantomData)
        }
        #[inline]
        fn vmaps_through() -> Self::VmapTable {
            LayerNorm_vmap_methods(__nnx::PhantomData)
        }
        #[inline]
        fn calls<R: __nnx::Borrowed<Module = Self>>(receiver: R) -> __nnx::Methods<R> {
            __nnx::Methods(receiver, Self::calls_through())
        }
        #[inline]
        fn vmaps<R: __nnx::Borrowed<Module = Self>>(_: R) -> __nnx::VmapMethods<Self> {
            __nnx::VmapMethods(Self::vmaps_through())
        }
        #[inline]
        fn same<R: __nnx::Borrowed<Module = Self>>(receiver: R) -> R {
            receiver
        }
    }
    impl __nnx::PointsTo<Self> for LayerNorm {
        #[inline]
        fn module(&self) -> &Self {
            self
        }
    }
    impl __nnx::PointsToMut<Self> for LayerNorm {
        #[inline]
        fn module_mut(&mut self) -> &mut Self {
            self
        }
    }
    pub struct LayerNorm_call<R>(R, __nnx::PhantomData<fn() -> LayerNorm>);
    pub struct LayerNorm_vmap_call(__nnx::PhantomData<fn() -> LayerNorm>);
    impl<R> __nnx::Receiving for LayerNorm_call<R> {
        type Receiver = R;
        #[inline]
        fn into_receiver(self) -> R {
            self.0
        }
    }
    impl __nnx::CallMethod for LayerNorm {
        type CallTable<R> = LayerNorm_call<R>;
        type VmapTable = LayerNorm_vmap_call;
        #[inline]
        fn call_through<R>(receiver: R) -> Self::CallTable<R> {
            LayerNorm_call(receiver, __nnx::PhantomData)
        }
        #[inline]
        fn vmap_through() -> Self::VmapTable {
            LayerNorm_vmap_call(__nnx::PhantomData)
        }
    }
    impl __nnx::SharedMethod<__nnx::CallName> for LayerNorm {}
    impl __nnx::BroadcastMethod<__nnx::CallName> for LayerNorm {}
    impl __nnx::SharedMethod<__nnx::Name<2190319719396888442u64>> for LayerNorm {}
    impl __nnx::BroadcastMethod<__nnx::Name<2190319719396888442u64>> for LayerNorm {}
    impl LayerNorm_methods {
        #[inline]
        pub fn forward<'m, 'a>(&self) -> __nnx::Keywords<'m, 'a, LayerNorm, 0usize>
        where
            LayerNorm: 'm,
        {
            __nnx::Keywords(
                LayerNorm_forward_keywords {
                    __recv: (),
                    mask: LayerNorm_forward_keywords::<'m, 'a, ()>::__default_mask(),
                    __marker: __nnx::PhantomData,
                },
                __nnx::PhantomData,
            )
        }
    }
    impl<R> LayerNorm_call<R> {
        #[inline]
        pub fn call<'m, 'a>(&self) -> __nnx::Keywords<'m, 'a, LayerNorm, 0usize>
        where
            LayerNorm: 'm,
        {
            LayerNorm_methods(__nnx::PhantomData).forward()
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_keywords<'m, 'a, __M = ()> {
        __recv: __M,
        mask: Option<ArrayViewD<'a, bool>>,
        __marker: __nnx::PhantomData<(&'m LayerNorm, &'a ())>,
    }
    impl<'m, 'a> __nnx::MethodKeywords<'m, 'a, 0usize> for LayerNorm
    where
        LayerNorm: 'm,
    {
        type Builder = LayerNorm_forward_keywords<'m, 'a, ()>;
        type Access = __nnx::Shared;
    }
    impl<'m, 'a> LayerNorm_forward_keywords<'m, 'a, ()> {
        #[inline]
        fn __default_mask() -> Option<ArrayViewD<'a, bool>> {
            ::core::option::Option::None
        }
        #[inline]
        pub fn mask(&mut self, mask: Option<ArrayViewD<'a, bool>>) {
            self.mask = mask;
        }
        #[inline]
        pub fn __on(
            self,
            module: &'m LayerNorm,
        ) -> LayerNorm_forward_keywords<'m, 'a, &'m LayerNorm> {
            LayerNorm_forward_keywords {
                __recv: module,
                mask: self.mask,
                __marker: __nnx::PhantomData,
            }
        }
    }
    impl<'m, 'a> LayerNorm_forward_keywords<'m, 'a, &'m LayerNorm> {
        #[inline]
        pub fn __call(
            self,
            x: ArrayViewD<'a, f32>,
        ) -> Result<ArrayD<f32>, ForwardError> {
            self.__recv.forward(x, self.mask)
        }
    }
    impl LayerNorm_vmap_methods {
        #[inline]
        pub fn forward<'m, 'a>(&self) -> LayerNorm_forward_vmap_entry<'m, 'a> {
            LayerNorm_forward_vmap_entry {
                __marker: __nnx::PhantomData,
            }
        }
    }
    impl LayerNorm_vmap_call {
        #[inline]
        pub fn call<'m, 'a>(self) -> LayerNorm_forward_vmap_entry<'m, 'a> {
            LayerNorm_vmap_methods(__nnx::PhantomData).forward()
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_vmap_entry<'m, 'a> {
        __marker: __nnx::PhantomData<(&'m LayerNorm, &'a ())>,
    }
    impl<'m, 'a> __nnx::VmapEntry<LayerNorm> for LayerNorm_forward_vmap_entry<'m, 'a> {
        type Broadcast = __nnx::Shared;
        type Stacked = __nnx::Shared;
    }
    impl<'m, 'a> LayerNorm_forward_vmap_entry<'m, 'a> {
        #[inline]
        pub fn __broadcast(
            self,
            module: &'m LayerNorm,
        ) -> __nnx::VmapKeywords<'m, 'a, LayerNorm, 0usize> {
            __nnx::VmapKeywords(
                LayerNorm_forward_vmap_keywords {
                    __recv: __nnx::Receiver::Broadcast(module),
                    mask: __nnx::Slot::Broadcast(
                        LayerNorm_forward_keywords::<'m, 'a, ()>::__default_mask(),
                    ),
                    __out_axes: __nnx::DefaultAxes,
                    __axis_size: ::core::option::Option::None,
                    __marker: __nnx::PhantomData,
                },
                __nnx::PhantomData,
            )
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'m __nnx::Stacked<LayerNorm>,
        ) -> __nnx::VmapKeywords<'m, 'a, LayerNorm, 0usize> {
            __nnx::VmapKeywords(
                LayerNorm_forward_vmap_keywords {
                    __recv: __nnx::Receiver::Stacked(stack),
                    mask: __nnx::Slot::Broadcast(
                        LayerNorm_forward_keywords::<'m, 'a, ()>::__default_mask(),
                    ),
                    __out_axes: __nnx::DefaultAxes,
                    __axis_size: ::core::option::Option::None,
                    __marker: __nnx::PhantomData,
                },
                __nnx::PhantomData,
            )
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_forward_vmap_keywords<'m, 'a, O> {
        __recv: __nnx::Receiver<'m, LayerNorm>,
        mask: __nnx::Slot<Option<ArrayViewD<'a, bool>>>,
        __out_axes: O,
        __axis_size: ::core::option::Option<usize>,
        __marker: __nnx::PhantomData<&'a ()>,
    }
    impl<'m, 'a> __nnx::MethodVmapKeywords<'m, 'a, 0usize> for LayerNorm
    where
        LayerNorm: 'm,
    {
        type Builder = LayerNorm_forward_vmap_keywords<'m, 'a, __nnx::DefaultAxes>;
    }
    impl<'m, 'a, O> LayerNorm_forward_vmap_keywords<'m, 'a, O> {
        #[inline]
        pub fn mask(&mut self, mask: __nnx::Slot<Option<ArrayViewD<'a, bool>>>) {
            self.mask = mask;
        }
        #[inline]
        pub fn __axis_size(mut self, size: usize) -> Self {
            self.__axis_size = ::core::option::Option::Some(size);
            self
        }
        #[inline]
        pub fn __out_axes<const __N: usize>(
            self,
            axes: impl ::core::ops::FnOnce(
                __nnx::Outputs<__N>,
            ) -> <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Axes,
        ) -> LayerNorm_forward_vmap_keywords<
            'm,
            'a,
            <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Axes,
        >
        where
            Result<ArrayD<f32>, ForwardError>: __nnx::Stackable,
            <Result<
                ArrayD<f32>,
                ForwardError,
            > as __nnx::Stackable>::Axes: __nnx::AxesOf<__N>,
        {
            LayerNorm_forward_vmap_keywords {
                __recv: self.__recv,
                mask: self.mask,
                __out_axes: axes(__nnx::Outputs),
                __axis_size: self.__axis_size,
                __marker: __nnx::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            mut x: __nnx::Slot<ArrayViewD<'a, f32>>,
        ) -> __nnx::Result<
            <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Batched,
            __nnx::VmapError,
        >
        where
            Result<ArrayD<f32>, ForwardError>: __nnx::Stackable,
            O: __nnx::IntoAxes<
                <Result<ArrayD<f32>, ForwardError> as __nnx::Stackable>::Axes,
            >,
        {
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
    impl LayerNorm_methods {
        #[inline]
        pub fn update<'m, 'a>(&self) -> __nnx::Keywords<'m, 'a, LayerNorm, 1usize>
        where
            LayerNorm: 'm,
        {
            __nnx::Keywords(
                LayerNorm_update_keywords {
                    __recv: (),
                    rate: LayerNorm_update_keywords::<'m, 'a, ()>::__default_rate(),
                    __marker: __nnx::PhantomData,
                },
                __nnx::PhantomData,
            )
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_keywords<'m, 'a, __M = ()> {
        __recv: __M,
        rate: f32,
        __marker: __nnx::PhantomData<(&'m LayerNorm, &'a ())>,
    }
    impl<'m, 'a> __nnx::MethodKeywords<'m, 'a, 1usize> for LayerNorm
    where
        LayerNorm: 'm,
    {
        type Builder = LayerNorm_update_keywords<'m, 'a, ()>;
        type Access = __nnx::Mutable;
    }
    impl<'m, 'a> LayerNorm_update_keywords<'m, 'a, ()> {
        #[inline]
        fn __default_rate() -> f32 {
            0.5
        }
        #[inline]
        pub fn rate(&mut self, rate: f32) {
            self.rate = rate;
        }
        #[inline]
        pub fn __on(
            self,
            module: &'m mut LayerNorm,
        ) -> LayerNorm_update_keywords<'m, 'a, &'m mut LayerNorm> {
            LayerNorm_update_keywords {
                __recv: module,
                rate: self.rate,
                __marker: __nnx::PhantomData,
            }
        }
    }
    impl<'m, 'a> LayerNorm_update_keywords<'m, 'a, &'m mut LayerNorm> {
        #[inline]
        pub fn __call(self, x: ArrayViewD<'a, f32>) -> ArrayD<f32> {
            self.__recv.update(x, self.rate)
        }
    }
    impl LayerNorm_vmap_methods {
        #[inline]
        pub fn update<'m, 'a>(&self) -> LayerNorm_update_vmap_entry<'m, 'a> {
            LayerNorm_update_vmap_entry {
                __marker: __nnx::PhantomData,
            }
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_vmap_entry<'m, 'a> {
        __marker: __nnx::PhantomData<(&'m LayerNorm, &'a ())>,
    }
    impl<'m, 'a> __nnx::VmapEntry<LayerNorm> for LayerNorm_update_vmap_entry<'m, 'a> {
        type Broadcast = __nnx::Shared;
        type Stacked = __nnx::Mutable;
    }
    impl<'m, 'a> LayerNorm_update_vmap_entry<'m, 'a> {
        #[inline]
        pub fn __broadcast(
            self,
            _module: &'m LayerNorm,
        ) -> __nnx::VmapKeywords<'m, 'a, LayerNorm, 1usize> {
            ::core::unreachable!(
                "vmap! refuses to broadcast a module to a `&mut self` method without a batching rule"
            )
        }
        #[inline]
        pub fn __stacked(
            self,
            stack: &'m mut __nnx::Stacked<LayerNorm>,
        ) -> __nnx::VmapKeywords<'m, 'a, LayerNorm, 1usize> {
            __nnx::VmapKeywords(
                LayerNorm_update_vmap_keywords {
                    __recv: __nnx::ReceiverMut::Stacked(stack),
                    rate: __nnx::Slot::Broadcast(
                        LayerNorm_update_keywords::<'m, 'a, ()>::__default_rate(),
                    ),
                    __out_axes: __nnx::DefaultAxes,
                    __axis_size: ::core::option::Option::None,
                    __marker: __nnx::PhantomData,
                },
                __nnx::PhantomData,
            )
        }
    }
    #[doc(hidden)]
    pub struct LayerNorm_update_vmap_keywords<'m, 'a, O> {
        __recv: __nnx::ReceiverMut<'m, LayerNorm>,
        rate: __nnx::Slot<f32>,
        __out_axes: O,
        __axis_size: ::core::option::Option<usize>,
        __marker: __nnx::PhantomData<&'a ()>,
    }
    impl<'m, 'a> __nnx::MethodVmapKeywords<'m, 'a, 1usize> for LayerNorm
    where
        LayerNorm: 'm,
    {
        type Builder = LayerNorm_update_vmap_keywords<'m, 'a, __nnx::DefaultAxes>;
    }
    impl<'m, 'a, O> LayerNorm_update_vmap_keywords<'m, 'a, O> {
        #[inline]
        pub fn rate(&mut self, rate: __nnx::Slot<f32>) {
            self.rate = rate;
        }
        #[inline]
        pub fn __axis_size(mut self, size: usize) -> Self {
            self.__axis_size = ::core::option::Option::Some(size);
            self
        }
        #[inline]
        pub fn __out_axes<const __N: usize>(
            self,
            axes: impl ::core::ops::FnOnce(
                __nnx::Outputs<__N>,
            ) -> <ArrayD<f32> as __nnx::Stackable>::Axes,
        ) -> LayerNorm_update_vmap_keywords<
            'm,
            'a,
            <ArrayD<f32> as __nnx::Stackable>::Axes,
        >
        where
            ArrayD<f32>: __nnx::Stackable,
            <ArrayD<f32> as __nnx::Stackable>::Axes: __nnx::AxesOf<__N>,
        {
            LayerNorm_update_vmap_keywords {
                __recv: self.__recv,
                rate: self.rate,
                __out_axes: axes(__nnx::Outputs),
                __axis_size: self.__axis_size,
                __marker: __nnx::PhantomData,
            }
        }
        #[inline]
        pub fn __run(
            self,
            mut x: __nnx::Slot<ArrayViewD<'a, f32>>,
        ) -> __nnx::Result<<ArrayD<f32> as __nnx::Stackable>::Batched, __nnx::VmapError>
        where
            ArrayD<f32>: __nnx::Stackable,
            O: __nnx::IntoAxes<<ArrayD<f32> as __nnx::Stackable>::Axes>,
        {
            let mut rate = self.rate;
            let mut batch = __nnx::BatchSize::new(self.__axis_size);
            batch.add("x", x.check("x")?)?;
            batch.add("rate", rate.check("rate")?)?;
            let axes = __nnx::IntoAxes::into_axes(self.__out_axes);
            match self.__recv {
                __nnx::ReceiverMut::Broadcast(_) => {
                    ::core::unreachable!(
                        "vmap! broadcasts a `&mut self` method only through its batching rule"
                    )
                }
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
};
