use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Params {
    #[log(flatten)]
    common: f64,
    lr: f64,
}

fn main() {}
