//! Graphviz DOT dumps (via petgraph) for pictures of a graph.
//!
//! Every node is labelled `%id op : type`, followed by its module path on a second line when
//! it has one; outputs get a third line `output k` and a bold double outline. Edges go from
//! operand to user and are labelled with the operand position.

use crate::Graph;
use petgraph::dot::{Config, Dot};
use petgraph::graph::DiGraph;

/// Renders `graph` as a DOT digraph.
pub fn to_dot(graph: &Graph) -> String {
    let mut outputs: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (k, o) in graph.outputs().iter().enumerate() {
        if let Some(v) = outputs.get_mut(o.0) {
            v.push(k);
        }
    }
    let mut g: DiGraph<String, usize> = DiGraph::new();
    let idx: Vec<_> = graph
        .ids()
        .map(|id| {
            let node = graph.node(id);
            let mut label = format!("{id} {} : {}", node.op.name(), node.ty);
            if !node.path.is_empty() {
                label.push('\n');
                label.push_str(&node.path);
            }
            for k in &outputs[id.0] {
                label.push_str(&format!("\noutput {k}"));
            }
            g.add_node(label)
        })
        .collect();
    for (user, node) in graph.nodes().iter().enumerate() {
        for (pos, operand) in node.inputs.iter().enumerate() {
            if let Some(&from) = idx.get(operand.0) {
                g.add_edge(from, idx[user], pos);
            }
        }
    }
    let node_attrs = |_, (n, _): (petgraph::graph::NodeIndex, &String)| {
        if outputs[n.index()].is_empty() {
            "shape = box".to_string()
        } else {
            "shape = box, style = bold, peripheries = 2".to_string()
        }
    };
    let dot = Dot::with_attr_getters(
        &g,
        &[Config::GraphContentOnly],
        &|_, _| String::new(),
        &node_attrs,
    );
    let name: String = graph
        .name
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            '\n' => vec!['\\', 'n'],
            c => vec![c],
        })
        .collect();
    format!("digraph \"{name}\" {{\n{dot}}}\n")
}
