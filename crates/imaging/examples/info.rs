//! Prints what `imaging::decode` makes of files: `cargo run -p imaging --example info -- FILE...`
//! (a quick way to check a user's file without the app; prints no patient data).

fn main() {
    for path in std::env::args().skip(1) {
        let t = std::time::Instant::now();
        let result = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| imaging::decode(&b, Some(&path)).map_err(|e| e.to_string()));
        match result {
            Ok(s) => {
                let range = s.value_range();
                println!(
                    "{path}: {}×{} frame {}/{} {:?} {:?} spacing {:?} window {:?} range {range:?} {:?} ({:?})",
                    s.width,
                    s.height,
                    s.frame + 1,
                    s.frame_count,
                    s.modality,
                    s.units,
                    s.spacing,
                    s.window,
                    s.source,
                    t.elapsed()
                );
            }
            Err(e) => println!("{path}: error: {e} ({:?})", t.elapsed()),
        }
    }
}
