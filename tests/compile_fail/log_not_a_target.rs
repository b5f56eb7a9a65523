use hippocamp::log;

fn main() -> Result<(), hippocamp::Error> {
    let target = "params";
    log!(target, "lr" => 0.1)?;
    Ok(())
}
