//! The execution mode: eager (each op runs as it is called) or graph (ops are traced).

use std::fmt;
use std::str::FromStr;

/// How model code runs. Chosen at run time (`--mode eager|graph`), never in model code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Every op executes on the backend as it is called (PyTorch eager, MindSpore PyNative).
    #[default]
    Eager,
    /// Ops are recorded into an IR graph, which is optimised, compiled and then run
    /// (MindSpore GRAPH_MODE).
    Graph,
}

impl Mode {
    /// The name used on the command line (`eager`, `graph`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Eager => "eager",
            Mode::Graph => "graph",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "eager" => Ok(Mode::Eager),
            "graph" => Ok(Mode::Graph),
            _ => Err(format!("unknown mode `{s}` (expected eager or graph)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Mode;

    #[test]
    fn parses_command_line_names() {
        assert_eq!("eager".parse::<Mode>(), Ok(Mode::Eager));
        assert_eq!("graph".parse::<Mode>(), Ok(Mode::Graph));
        assert_eq!(Mode::Graph.to_string(), "graph");
        assert!("GRAPH"
            .parse::<Mode>()
            .unwrap_err()
            .contains("eager or graph"));
    }
}
