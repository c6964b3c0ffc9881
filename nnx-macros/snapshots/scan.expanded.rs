fn expansion() {
    let _ = 'scan: {
        let kw_mask = m.view();
        trait __NnxPicke0edb56f145341e7 {
            fn __nnx_pick_e0edb56f145341e7(self) -> Self;
        }
        impl<
            M: ?::core::marker::Sized
                + ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > __NnxPicke0edb56f145341e7 for &M {
            #[inline]
            fn __nnx_pick_e0edb56f145341e7(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> __NnxPicke0edb56f145341e7 for &mut T {
            #[inline]
            fn __nnx_pick_e0edb56f145341e7(self) -> Self {
                self
            }
        }
        let stack = (layers).__nnx_pick_e0edb56f145341e7();
        #[diagnostic::on_unimplemented(
            message = "`scan!` runs the members of a `Stacked` module in turn, and `layers` is not one",
            label = "not a `Stacked` module",
            note = "build the layer stack with `Stacked::new(n, |i| ..)`; a single module is called with `call!`"
        )]
        trait ScanStack<S> {
            fn scan_members(self) -> S;
        }
        #[diagnostic::do_not_recommend]
        impl<
            's,
            M,
            P: ::nnx::__private::PointsTo<::nnx::__private::Stacked<M>>
                + ?::core::marker::Sized,
        > ScanStack<&'s ::nnx::__private::Stacked<M>> for &'s P {
            #[inline]
            fn scan_members(self) -> &'s ::nnx::__private::Stacked<M> {
                ::nnx::__private::PointsTo::module(self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<
            's,
            M,
            P: ::nnx::__private::PointsToMut<::nnx::__private::Stacked<M>>
                + ?::core::marker::Sized,
        > ScanStack<&'s mut ::nnx::__private::Stacked<M>> for &'s mut P {
            #[inline]
            fn scan_members(self) -> &'s mut ::nnx::__private::Stacked<M> {
                ::nnx::__private::PointsToMut::module_mut(self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<
            's,
            't,
            M,
            P: ::nnx::__private::PointsTo<::nnx::__private::Stacked<M>>
                + ?::core::marker::Sized,
        > ScanStack<&'t ::nnx::__private::Stacked<M>> for &'s mut &'t P {
            #[inline]
            fn scan_members(self) -> &'t ::nnx::__private::Stacked<M> {
                ::nnx::__private::PointsTo::module(*self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<
            's,
            M,
            P: ::nnx::__private::PointsTo<::nnx::__private::Stacked<M>>
                + ?::core::marker::Sized,
        > ScanStack<&'s ::nnx::__private::Stacked<M>> for &'s mut ::std::rc::Rc<P> {
            #[inline]
            fn scan_members(self) -> &'s ::nnx::__private::Stacked<M> {
                ::nnx::__private::PointsTo::module(self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<
            's,
            M,
            P: ::nnx::__private::PointsTo<::nnx::__private::Stacked<M>>
                + ?::core::marker::Sized,
        > ScanStack<&'s ::nnx::__private::Stacked<M>> for &'s mut ::std::sync::Arc<P> {
            #[inline]
            fn scan_members(self) -> &'s ::nnx::__private::Stacked<M> {
                ::nnx::__private::PointsTo::module(self)
            }
        }
        let mut stack = ScanStack::scan_members({
            let receiver = stack;
            receiver
        });
        let mut carry = match ::nnx::call!(
            (::nnx::__private::ScanMembers::member(& mut stack, 0)) (x.view(), mask =
            ::core::clone::Clone::clone(& kw_mask))
        ) {
            ::core::result::Result::Ok(output) => output,
            ::core::result::Result::Err(error) => {
                break 'scan ::core::result::Result::Err(error);
            }
        };
        for index in 1..::nnx::__private::ScanMembers::members(&stack) {
            carry = match ::nnx::call!(
                (::nnx::__private::ScanMembers::member(& mut stack, index)) (& carry,
                mask = ::core::clone::Clone::clone(& kw_mask))
            ) {
                ::core::result::Result::Ok(output) => output,
                ::core::result::Result::Err(error) => {
                    break 'scan ::core::result::Result::Err(error);
                }
            };
        }
        ::core::result::Result::Ok(carry)
    };
}
