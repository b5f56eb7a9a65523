use hippocamp::LogNamespace;

#[derive(LogNamespace)]
union Bits {
    float: f64,
    int: u64,
}

fn main() {}
