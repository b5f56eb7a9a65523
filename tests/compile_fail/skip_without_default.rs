use hippocamp::LogNamespace;

struct Device;

#[derive(LogNamespace)]
struct Params {
    #[log(skip)]
    device: Device,
    lr: f64,
}

fn main() {}
