use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Params {
    #[log(rename = "a/b")]
    batch_size: usize,
}

fn main() {}
