use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Params {
    batch: usize,
    #[log(rename = "batch")]
    batch_size: usize,
}

fn main() {}
