//! Device choice parsing and the CPU fallback on a machine without CUDA.

use trainer::device::{choose, DeviceChoice};

#[test]
fn choices_parse() {
    assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
    assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
    assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
    assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
    assert!("gpu".parse::<DeviceChoice>().is_err());
    assert!("cuda:x".parse::<DeviceChoice>().is_err());
}

#[test]
fn auto_explains_its_choice_and_explicit_cuda_fails_where_there_is_none() {
    let auto = choose(DeviceChoice::Auto).unwrap();
    assert!(!auto.reason.is_empty());
    if trainer::device::load_cuda_library().is_err() || !tch::Cuda::is_available() {
        assert_eq!(auto.device, tch::Device::Cpu);
        assert!(auto.reason.starts_with("cpu: "), "{}", auto.reason);
        assert!(choose(DeviceChoice::Cuda(0)).is_err());
    } else {
        assert_eq!(auto.device, tch::Device::Cuda(0));
        assert!(choose(DeviceChoice::Cuda(10_000)).is_err());
    }
    assert_eq!(choose(DeviceChoice::Cpu).unwrap().device, tch::Device::Cpu);
}
