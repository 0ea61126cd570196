// scratch: run SQL from argv, print rows (removed before hand-off)
fn main() {
    let c = duckdb::Connection::open_in_memory().unwrap();
    for sql in std::env::args().skip(1) {
        println!("> {sql}");
        let mut st = match c.prepare(&sql) { Ok(s) => s, Err(e) => { println!("ERR prepare: {e}"); continue; } };
        let mut rows = match st.query([]) { Ok(r) => r, Err(e) => { println!("ERR: {e}"); continue; } };
        loop {
            match rows.next() {
                Ok(Some(r)) => {
                    let n = r.as_ref().column_count();
                    let v: Vec<String> = (0..n).map(|i| format!("{:?}", r.get_ref(i).map(|x| x.to_owned()).ok())).collect();
                    println!("{}", v.join(" | "));
                }
                Ok(None) => break,
                Err(e) => { println!("ERR row: {e}"); break; }
            }
        }
    }
}
