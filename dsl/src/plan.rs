//! The plan: a petgraph DAG whose nodes are step instances with resolved arguments and whose
//! edges are data dependencies. What the engine executes.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::program::{Node, Program};

/// The DAG of a checked program.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub graph: DiGraph<Node, ()>,
    index: HashMap<String, NodeIndex>,
}

impl Plan {
    /// Builds the DAG of `program`. The checker has already ruled out cycles and dangling ids.
    pub fn new(program: &Program) -> Plan {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for (id, node) in &program.nodes {
            index.insert(id.clone(), graph.add_node(node.clone()));
        }
        for (id, node) in &program.nodes {
            for dep in node.deps() {
                if let Some(&from) = index.get(&dep) {
                    graph.add_edge(from, index[id], ());
                }
            }
        }
        Plan { name: program.name.clone(), graph, index }
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.index.get(id).map(|&i| &self.graph[i])
    }

    /// The nodes in an order that respects every dependency and otherwise keeps the order they
    /// were declared in (Kahn's algorithm, smallest declaration index first).
    pub fn topo_order(&self) -> Vec<&Node> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut waiting: Vec<usize> =
            self.graph.node_indices().map(|i| self.graph.neighbors_directed(i, petgraph::Incoming).count()).collect();
        let mut ready: BinaryHeap<Reverse<usize>> =
            waiting.iter().enumerate().filter(|(_, w)| **w == 0).map(|(i, _)| Reverse(i)).collect();
        let mut out = Vec::with_capacity(self.graph.node_count());
        while let Some(Reverse(i)) = ready.pop() {
            let index = NodeIndex::new(i);
            out.push(&self.graph[index]);
            for next in self.graph.neighbors_directed(index, petgraph::Outgoing) {
                waiting[next.index()] -= 1;
                if waiting[next.index()] == 0 {
                    ready.push(Reverse(next.index()));
                }
            }
        }
        assert_eq!(out.len(), self.graph.node_count(), "the checker rules out cycles");
        out
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the plan has no steps.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Graphviz `dot` text.
    pub fn to_dot(&self) -> String {
        let mut out =
            format!("digraph {:?} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", self.name);
        for i in self.graph.node_indices() {
            let n = &self.graph[i];
            out.push_str(&format!("  {:?} [label={:?}];\n", n.id, format!("{}\n{}", n.id, short(&n.step))));
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).unwrap();
            out.push_str(&format!("  {:?} -> {:?};\n", self.graph[a].id, self.graph[b].id));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart text.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let key = |i: NodeIndex| format!("n{}", i.index());
        for i in self.graph.node_indices() {
            let n = &self.graph[i];
            out.push_str(&format!("  {}[\"{}<br/><small>{}</small>\"]\n", key(i), n.id, short(&n.step)));
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).unwrap();
            out.push_str(&format!("  {} --> {}\n", key(a), key(b)));
        }
        out
    }

    /// JSON: the nodes with their resolved arguments, and the edges.
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Edge<'a> {
            from: &'a str,
            to: &'a str,
        }
        let nodes: Vec<&Node> = self.graph.node_indices().map(|i| &self.graph[i]).collect();
        let edges: Vec<Edge> = self
            .graph
            .edge_indices()
            .map(|e| {
                let (a, b) = self.graph.edge_endpoints(e).unwrap();
                Edge { from: &self.graph[a].id, to: &self.graph[b].id }
            })
            .collect();
        serde_json::json!({ "workflow": self.name, "nodes": nodes, "edges": edges })
    }
}

/// `std::loops::offline` → `offline`.
fn short(step: &str) -> &str {
    step.rsplit("::").next().unwrap_or(step)
}
