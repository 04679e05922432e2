//! The CPython side: `cpython.py` run one section at a time, just before the Rust side of the
//! same section, so that both sides of a row are measured within the same minute (this VM's
//! speed changes between minutes, and CPython's figures more than halve between runs).
//! Sections that run several rounds keep every round's figure; a row takes their median.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Finds a Python 3 interpreter: `$SHAREDCTYPES_PYTHON`, then the newest pyenv 3.x, then
/// `python3`.
pub fn python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("SHAREDCTYPES_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let versions = Path::new(&home).join(".pyenv/versions");
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(versions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let version: Vec<u32> = name
                    .split('.')
                    .map(|p| p.parse().ok())
                    .collect::<Option<_>>()?;
                (version.first() == Some(&3)).then(|| (version, e.path().join("bin/python3")))
            })
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev().map(|(_, p)| p));
    }
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import ctypes, multiprocessing"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// What `cpython.py` printed so far: each key's values, one per round of its section.
pub struct CPython {
    python: Option<PathBuf>,
    scale: f64,
    /// The name of the block CPython + numpy attach to (see the `shm` module).
    shm_name: String,
    values: HashMap<String, Vec<String>>,
}

impl CPython {
    pub fn new(python: Option<PathBuf>, scale: f64, shm_name: &str) -> CPython {
        CPython {
            python,
            scale,
            shm_name: shm_name.to_string(),
            values: HashMap::new(),
        }
    }

    /// The interpreter, if one was found.
    pub fn python(&self) -> Option<&Path> {
        self.python.as_deref()
    }

    /// Runs one round of `section` on the CPython side (nothing without an interpreter).
    pub fn run(&mut self, section: &str) {
        let Some(python) = &self.python else {
            return;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/vs_cpython/cpython.py");
        let output = Command::new(python)
            .arg(script)
            .arg(self.scale.to_string())
            .arg(section)
            .env(crate::shm::ENV, &self.shm_name)
            .output()
            .expect("python runs");
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "the CPython side failed");
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let mut parts = line.splitn(3, ',');
            if let (Some(key), Some(value)) = (parts.next(), parts.next()) {
                self.values
                    .entry(key.to_string())
                    .or_default()
                    .push(value.to_string());
            }
        }
    }

    /// The median of `key`'s figures over the rounds, if it was measured.
    pub fn get(&self, key: &str) -> Option<f64> {
        let mut v: Vec<f64> = self
            .values
            .get(key)?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    }

    /// `key`'s figures, one per round, in the order measured.
    pub fn rounds(&self, key: &str) -> Vec<f64> {
        self.values
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The last text `cpython.py` printed for `key` (a version, a reason).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.values.get(key)?.last().map(String::as_str)
    }

    /// True when the CPython side printed nothing (no interpreter).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
