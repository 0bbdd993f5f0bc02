//! Pruning an ONNX model to some of its outputs, and splitting one in two.
//!
//! ONNX Runtime computes every node of a graph on every run, whichever
//! outputs are asked for. BlazePose's landmark model spends about half of its
//! time in the segmentation decoder (full model, 2 threads: 13.0 ms with the
//! mask, 6.4 ms without), so the pose stage splits the graph where that
//! branch leaves it ([`split_outputs`]): the head (landmarks) runs on every
//! frame, the tail (33 nodes, 7 kB of weights) turns two of the head's
//! feature maps into the mask when one is due. A copy pruned of the branch
//! ([`prune_outputs`]) beside the whole graph held every weight twice (13 MB).
//!
//! The model is edited at the protobuf wire level: only the fields that name
//! values (node inputs and outputs, graph outputs, initializers, value infos)
//! are read; every other field is copied byte for byte. A node is kept when
//! one of its outputs is needed; nodes are in topological order (the ONNX
//! rule), so one backward pass finds them all. Graphs with subgraphs (`If`,
//! `Loop`, `Scan`) are refused: their bodies can read outer values by name.

use std::collections::HashSet;

/// Why a model could not be pruned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PruneError {
    /// The bytes are not a well-formed protobuf message.
    #[error("malformed ONNX protobuf: {0}")]
    Malformed(&'static str),
    /// The model has no graph.
    #[error("the model has no graph")]
    NoGraph,
    /// An output to keep is not an output of the graph.
    #[error("the graph has no output named `{0}`")]
    UnknownOutput(String),
    /// A node carries a subgraph, which may read values by name from the outer graph.
    #[error("the graph has control flow (subgraphs); not pruned")]
    Subgraph,
    /// The branch to split off reads an input of the model itself.
    #[error("the branch to split off reads the model's input `{0}`")]
    TailReadsInput(String),
}

// Field numbers of onnx.proto3.
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_INPUT: u32 = 11;
const GRAPH_OUTPUT: u32 = 12;
const GRAPH_VALUE_INFO: u32 = 13;
const GRAPH_SPARSE_INITIALIZER: u32 = 15;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_ATTRIBUTE: u32 = 5;
const ATTRIBUTE_GRAPH: u32 = 6;
const ATTRIBUTE_GRAPHS: u32 = 11;
const VALUE_INFO_NAME: u32 = 1;
const VALUE_INFO_TYPE: u32 = 2;
const TYPE_TENSOR: u32 = 1;
const TENSOR_TYPE_ELEM_TYPE: u32 = 1;
/// `TensorProto.DataType.FLOAT`.
const ELEM_FLOAT: u64 = 1;
const TENSOR_NAME: u32 = 8;
const SPARSE_TENSOR_VALUES: u32 = 1;

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

/// A node's value names.
struct Node<'a> {
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
}

/// One field of a message: its number, wire type, the bytes of the whole
/// field (key included) and, for length-delimited fields, the payload.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    number: u32,
    wire: u8,
    raw: &'a [u8],
    payload: &'a [u8],
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, PruneError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(PruneError::Malformed("truncated varint"))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(PruneError::Malformed("varint longer than 10 bytes"))
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The fields of one message, in order.
fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, PruneError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let key = read_varint(buf, &mut pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| PruneError::Malformed("field number too large"))?;
        let wire = (key & 7) as u8;
        let mut payload: &[u8] = &[];
        match wire {
            WIRE_VARINT => {
                read_varint(buf, &mut pos)?;
            }
            WIRE_I64 => pos += 8,
            WIRE_I32 => pos += 4,
            WIRE_LEN => {
                let len = read_varint(buf, &mut pos)? as usize;
                let end = pos.checked_add(len).ok_or(PruneError::Malformed("length overflow"))?;
                payload = buf.get(pos..end).ok_or(PruneError::Malformed("truncated field"))?;
                pos = end;
            }
            _ => return Err(PruneError::Malformed("unsupported wire type")),
        }
        if pos > buf.len() {
            return Err(PruneError::Malformed("truncated field"));
        }
        out.push(Field { number, wire, raw: &buf[start..pos], payload });
    }
    Ok(out)
}

/// The string fields numbered `number` of a message.
fn strings(buf: &[u8], number: u32) -> Result<Vec<&str>, PruneError> {
    fields(buf)?
        .into_iter()
        .filter(|f| f.number == number && f.wire == WIRE_LEN)
        .map(|f| std::str::from_utf8(f.payload).map_err(|_| PruneError::Malformed("name is not UTF-8")))
        .collect()
}

/// The first string field numbered `number`, or "".
fn name_of(buf: &[u8], number: u32) -> Result<&str, PruneError> {
    Ok(strings(buf, number)?.first().copied().unwrap_or(""))
}

fn push_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    write_varint(out, (u64::from(number) << 3) | u64::from(WIRE_LEN));
    write_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// A copy of the ONNX model `model` that computes only the graph outputs
/// named in `keep` (in the graph's order) and the nodes they depend on.
/// Unused initializers and value infos are dropped; everything else (opsets,
/// metadata, graph inputs) is kept as it was.
///
/// ```
/// # use hinge::pose::prune::{prune_outputs, PruneError};
/// assert_eq!(prune_outputs(&[0x0a], &["y"]), Err(PruneError::Malformed("truncated varint")));
/// ```
pub fn prune_outputs(model: &[u8], keep: &[&str]) -> Result<Vec<u8>, PruneError> {
    let model_fields = fields(model)?;
    let graph =
        model_fields.iter().find(|f| f.number == MODEL_GRAPH && f.wire == WIRE_LEN).ok_or(PruneError::NoGraph)?;
    let new_graph = prune_graph(graph.payload, keep)?;
    let mut out = Vec::with_capacity(model.len());
    for f in &model_fields {
        if f.number == MODEL_GRAPH && f.wire == WIRE_LEN {
            push_len_field(&mut out, MODEL_GRAPH, &new_graph);
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    Ok(out)
}

fn prune_graph(graph: &[u8], keep: &[&str]) -> Result<Vec<u8>, PruneError> {
    let graph_fields = fields(graph)?;
    require_outputs(&graph_fields, keep)?;
    let nodes = graph_nodes(&graph_fields)?;
    let kept = needed_nodes(&nodes, keep);
    select(&graph_fields, &nodes, &kept, keep, Part::Head, &[])
}

/// A model cut in two where some outputs' own branch leaves the rest (see
/// [`split_outputs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitModel {
    /// Computes the `head` outputs and, as further outputs, the `boundary` values.
    pub head: Vec<u8>,
    /// Computes the `tail` outputs from the `boundary` values (its inputs).
    pub tail: Vec<u8>,
    /// The values the tail reads from the head, in the graph's node order.
    pub boundary: Vec<String>,
}

/// Splits `model` into a head that computes the outputs `head` (plus the
/// values the rest needs from it) and a tail that computes the outputs
/// `tail` from those values, so that a branch needed only now and then (the
/// segmentation mask) runs only then, with no node or weight held twice: the
/// head holds every node the `head` outputs need, the tail the others the
/// `tail` outputs need. The tail reads no input of the whole model.
///
/// ```
/// # use hinge::pose::prune::{split_outputs, PruneError};
/// assert_eq!(split_outputs(&[0x0a], &["y"], &["z"]), Err(PruneError::Malformed("truncated varint")));
/// ```
pub fn split_outputs(model: &[u8], head: &[&str], tail: &[&str]) -> Result<SplitModel, PruneError> {
    let model_fields = fields(model)?;
    let graph =
        model_fields.iter().find(|f| f.number == MODEL_GRAPH && f.wire == WIRE_LEN).ok_or(PruneError::NoGraph)?;
    let graph_fields = fields(graph.payload)?;
    require_outputs(&graph_fields, head)?;
    require_outputs(&graph_fields, tail)?;
    let nodes = graph_nodes(&graph_fields)?;
    let in_head = needed_nodes(&nodes, head);
    let in_tail: Vec<bool> = needed_nodes(&nodes, tail).iter().zip(&in_head).map(|(&t, &h)| t && !h).collect();
    let produced_by_head: HashSet<&str> =
        nodes.iter().zip(&in_head).filter(|(_, &k)| k).flat_map(|(n, _)| n.outputs.iter().copied()).collect();
    let mut boundary: Vec<&str> = Vec::new();
    for (node, _) in nodes.iter().zip(&in_tail).filter(|(_, &k)| k) {
        for &input in node.inputs.iter().filter(|i| !i.is_empty()) {
            if produced_by_head.contains(input) && !boundary.contains(&input) {
                boundary.push(input);
            }
        }
    }
    let graph_inputs: Vec<&str> = graph_fields
        .iter()
        .filter(|f| f.number == GRAPH_INPUT && f.wire == WIRE_LEN)
        .map(|f| name_of(f.payload, VALUE_INFO_NAME))
        .collect::<Result<_, _>>()?;
    let tail_reads: HashSet<&str> =
        nodes.iter().zip(&in_tail).filter(|(_, &k)| k).flat_map(|(n, _)| n.inputs.iter().copied()).collect();
    if let Some(input) = graph_inputs.iter().find(|i| tail_reads.contains(*i)) {
        return Err(PruneError::TailReadsInput(input.to_string()));
    }
    // a boundary value's declared type where the graph has one, else a float tensor
    let value_info = |name: &str| -> Result<Vec<u8>, PruneError> {
        for f in graph_fields.iter().filter(|f| f.number == GRAPH_VALUE_INFO && f.wire == WIRE_LEN) {
            if name_of(f.payload, VALUE_INFO_NAME)? == name {
                return Ok(f.payload.to_vec());
            }
        }
        let mut elem = Vec::new();
        write_varint(&mut elem, u64::from(TENSOR_TYPE_ELEM_TYPE << 3) | u64::from(WIRE_VARINT));
        write_varint(&mut elem, ELEM_FLOAT);
        let mut type_proto = Vec::new();
        push_len_field(&mut type_proto, TYPE_TENSOR, &elem);
        let mut info = Vec::new();
        push_len_field(&mut info, VALUE_INFO_NAME, name.as_bytes());
        push_len_field(&mut info, VALUE_INFO_TYPE, &type_proto);
        Ok(info)
    };
    let boundary_infos: Vec<Vec<u8>> = boundary.iter().map(|b| value_info(b)).collect::<Result<_, _>>()?;
    let head_graph = select(&graph_fields, &nodes, &in_head, head, Part::Head, &boundary_infos)?;
    let tail_graph = select(&graph_fields, &nodes, &in_tail, tail, Part::Tail, &boundary_infos)?;
    let with_graph = |g: &[u8]| {
        let mut out = Vec::with_capacity(model.len() - graph.payload.len() + g.len() + 16);
        for f in &model_fields {
            if f.number == MODEL_GRAPH && f.wire == WIRE_LEN {
                push_len_field(&mut out, MODEL_GRAPH, g);
            } else {
                out.extend_from_slice(f.raw);
            }
        }
        out
    };
    Ok(SplitModel {
        head: with_graph(&head_graph),
        tail: with_graph(&tail_graph),
        boundary: boundary.iter().map(|b| b.to_string()).collect(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Head,
    Tail,
}

/// Checks that every name in `names` is an output of the graph.
fn require_outputs(graph_fields: &[Field<'_>], names: &[&str]) -> Result<(), PruneError> {
    let outputs: Vec<&str> = graph_fields
        .iter()
        .filter(|f| f.number == GRAPH_OUTPUT && f.wire == WIRE_LEN)
        .map(|f| name_of(f.payload, VALUE_INFO_NAME))
        .collect::<Result<_, _>>()?;
    match names.iter().find(|k| !outputs.contains(k)) {
        Some(missing) => Err(PruneError::UnknownOutput(missing.to_string())),
        None => Ok(()),
    }
}

/// The graph's nodes with their inputs and outputs, checked for subgraphs.
fn graph_nodes<'a>(graph_fields: &[Field<'a>]) -> Result<Vec<Node<'a>>, PruneError> {
    let mut nodes = Vec::new();
    for f in graph_fields.iter().filter(|f| f.number == GRAPH_NODE && f.wire == WIRE_LEN) {
        for attribute in fields(f.payload)?.iter().filter(|a| a.number == NODE_ATTRIBUTE && a.wire == WIRE_LEN) {
            if fields(attribute.payload)?.iter().any(|x| x.number == ATTRIBUTE_GRAPH || x.number == ATTRIBUTE_GRAPHS) {
                return Err(PruneError::Subgraph);
            }
        }
        nodes.push(Node { inputs: strings(f.payload, NODE_INPUT)?, outputs: strings(f.payload, NODE_OUTPUT)? });
    }
    Ok(nodes)
}

/// Which nodes the outputs `keep` need: one backward pass over the
/// topologically ordered nodes.
fn needed_nodes(nodes: &[Node<'_>], keep: &[&str]) -> Vec<bool> {
    let mut needed: HashSet<&str> = keep.iter().copied().collect();
    let mut kept = vec![false; nodes.len()];
    for (k, node) in nodes.iter().enumerate().rev() {
        if node.outputs.iter().any(|o| needed.contains(o)) {
            kept[k] = true;
            needed.extend(node.inputs.iter().copied().filter(|i| !i.is_empty()));
        }
    }
    kept
}

/// The graph of one part of a split (or of a pruned model: a head with no
/// boundary): its nodes, the initializers and value infos they use, its
/// outputs; the head also outputs the boundary values, which the tail takes
/// as its inputs instead of the model's.
fn select(
    graph_fields: &[Field<'_>],
    nodes: &[Node<'_>],
    kept: &[bool],
    outputs: &[&str],
    part: Part,
    boundary_infos: &[Vec<u8>],
) -> Result<Vec<u8>, PruneError> {
    let reads: HashSet<&str> =
        nodes.iter().zip(kept).filter(|(_, &k)| k).flat_map(|(n, _)| n.inputs.iter().copied()).collect();
    let produced: HashSet<&str> =
        nodes.iter().zip(kept).filter(|(_, &k)| k).flat_map(|(n, _)| n.outputs.iter().copied()).collect();
    let mut out = Vec::new();
    let mut node_index = 0;
    let mut inputs_written = false;
    for f in graph_fields {
        let keep_field = match (f.number, f.wire) {
            (GRAPH_NODE, WIRE_LEN) => {
                node_index += 1;
                kept[node_index - 1]
            }
            (GRAPH_INPUT, WIRE_LEN) if part == Part::Tail => {
                if !inputs_written {
                    for info in boundary_infos {
                        push_len_field(&mut out, GRAPH_INPUT, info);
                    }
                    inputs_written = true;
                }
                false
            }
            (GRAPH_OUTPUT, WIRE_LEN) => outputs.contains(&name_of(f.payload, VALUE_INFO_NAME)?),
            (GRAPH_INITIALIZER, WIRE_LEN) => reads.contains(name_of(f.payload, TENSOR_NAME)?),
            (GRAPH_SPARSE_INITIALIZER, WIRE_LEN) => {
                let values = fields(f.payload)?
                    .into_iter()
                    .find(|x| x.number == SPARSE_TENSOR_VALUES && x.wire == WIRE_LEN)
                    .map(|x| x.payload)
                    .unwrap_or(&[]);
                reads.contains(name_of(values, TENSOR_NAME)?)
            }
            (GRAPH_VALUE_INFO, WIRE_LEN) => {
                let name = name_of(f.payload, VALUE_INFO_NAME)?;
                (reads.contains(name) || produced.contains(name))
                    && !(part == Part::Tail && boundary_infos.iter().any(|b| name_of(b, VALUE_INFO_NAME) == Ok(name)))
            }
            _ => true,
        };
        if keep_field {
            out.extend_from_slice(f.raw);
        }
    }
    match part {
        Part::Head => {
            // a boundary value that is an output of the head already is not added twice
            for info in boundary_infos {
                if !outputs.contains(&name_of(info, VALUE_INFO_NAME)?) {
                    push_len_field(&mut out, GRAPH_OUTPUT, info);
                }
            }
        }
        Part::Tail if !inputs_written => {
            for info in boundary_infos {
                push_len_field(&mut out, GRAPH_INPUT, info);
            }
        }
        Part::Tail => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(parts: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (number, payload) in parts {
            push_len_field(&mut out, *number, payload);
        }
        out
    }

    fn node(inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut parts: Vec<(u32, Vec<u8>)> = inputs.iter().map(|i| (NODE_INPUT, i.as_bytes().to_vec())).collect();
        parts.extend(outputs.iter().map(|o| (NODE_OUTPUT, o.as_bytes().to_vec())));
        message(&parts)
    }

    fn named(number: u32, name: &str) -> Vec<u8> {
        message(&[(number, name.as_bytes().to_vec())])
    }

    /// x → a → {y, b → z}; initializers wa (for a) and wb (for b).
    fn model() -> Vec<u8> {
        let graph = message(&[
            (GRAPH_NODE, node(&["x", "wa"], &["a"])),
            (GRAPH_NODE, node(&["a"], &["y"])),
            (GRAPH_NODE, node(&["a", "wb"], &["b"])),
            (GRAPH_NODE, node(&["b"], &["z"])),
            (GRAPH_INITIALIZER, named(TENSOR_NAME, "wa")),
            (GRAPH_INITIALIZER, named(TENSOR_NAME, "wb")),
            (GRAPH_INPUT, named(VALUE_INFO_NAME, "x")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "y")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "z")),
            (GRAPH_VALUE_INFO, named(VALUE_INFO_NAME, "b")),
        ]);
        let mut m = Vec::new();
        // ir_version = 8 (a varint field) before the graph
        m.extend_from_slice(&[0x08, 0x08]);
        push_len_field(&mut m, MODEL_GRAPH, &graph);
        m
    }

    /// A model holding `graph` and nothing else.
    fn model_of(graph: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        push_len_field(&mut m, MODEL_GRAPH, graph);
        m
    }

    fn graph_of(m: &[u8]) -> Vec<u8> {
        fields(m).unwrap().into_iter().find(|f| f.number == MODEL_GRAPH).unwrap().payload.to_vec()
    }

    fn names(graph: &[u8], number: u32, inner: u32) -> Vec<String> {
        fields(graph)
            .unwrap()
            .into_iter()
            .filter(|f| f.number == number)
            .map(|f| strings(f.payload, inner).unwrap().join(","))
            .collect()
    }

    #[test]
    fn keeps_only_what_the_outputs_need() {
        let pruned = prune_outputs(&model(), &["y"]).unwrap();
        assert_eq!(&pruned[..2], &[0x08, 0x08], "other model fields kept");
        let g = graph_of(&pruned);
        assert_eq!(names(&g, GRAPH_NODE, NODE_OUTPUT), ["a", "y"]);
        assert_eq!(names(&g, GRAPH_INITIALIZER, TENSOR_NAME), ["wa"]);
        assert_eq!(names(&g, GRAPH_OUTPUT, VALUE_INFO_NAME), ["y"]);
        assert_eq!(names(&g, GRAPH_INPUT, VALUE_INFO_NAME), ["x"], "graph inputs kept");
        assert!(names(&g, GRAPH_VALUE_INFO, VALUE_INFO_NAME).is_empty());
    }

    #[test]
    fn keeping_every_output_changes_nothing() {
        let m = model();
        assert_eq!(prune_outputs(&m, &["y", "z"]).unwrap(), m);
    }

    #[test]
    fn refuses_unknown_outputs_subgraphs_and_garbage() {
        assert_eq!(prune_outputs(&model(), &["nope"]), Err(PruneError::UnknownOutput("nope".into())));
        let attribute = message(&[(ATTRIBUTE_GRAPH, Vec::new())]);
        let mut if_node = node(&["x"], &["y"]);
        push_len_field(&mut if_node, NODE_ATTRIBUTE, &attribute);
        let graph = message(&[(GRAPH_NODE, if_node), (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "y"))]);
        let m = model_of(&graph);
        assert_eq!(prune_outputs(&m, &["y"]), Err(PruneError::Subgraph));
        assert_eq!(prune_outputs(&[0x08, 0x01], &["y"]), Err(PruneError::NoGraph));
        assert_eq!(prune_outputs(&[0x3a, 0x05, 0x00], &["y"]), Err(PruneError::Malformed("truncated field")));
        assert_eq!(prune_outputs(&[0x0b], &["y"]), Err(PruneError::Malformed("unsupported wire type")));
    }

    #[test]
    fn splits_off_a_branch_with_its_own_nodes_and_weights_only() {
        let split = split_outputs(&model(), &["y"], &["z"]).unwrap();
        assert_eq!(split.boundary, ["a"]);
        let head = graph_of(&split.head);
        assert_eq!(names(&head, GRAPH_NODE, NODE_OUTPUT), ["a", "y"]);
        assert_eq!(names(&head, GRAPH_INITIALIZER, TENSOR_NAME), ["wa"]);
        assert_eq!(names(&head, GRAPH_OUTPUT, VALUE_INFO_NAME), ["y", "a"], "the boundary is an output of the head");
        assert_eq!(names(&head, GRAPH_INPUT, VALUE_INFO_NAME), ["x"]);
        let tail = graph_of(&split.tail);
        assert_eq!(names(&tail, GRAPH_NODE, NODE_OUTPUT), ["b", "z"]);
        assert_eq!(names(&tail, GRAPH_INITIALIZER, TENSOR_NAME), ["wb"]);
        assert_eq!(names(&tail, GRAPH_OUTPUT, VALUE_INFO_NAME), ["z"]);
        assert_eq!(names(&tail, GRAPH_INPUT, VALUE_INFO_NAME), ["a"], "the tail reads the boundary, not x");
        assert!(names(&tail, GRAPH_VALUE_INFO, VALUE_INFO_NAME).iter().all(|n| n != "a"));
        // the boundary input is declared a float tensor
        let input = fields(&tail).unwrap().into_iter().find(|f| f.number == GRAPH_INPUT).unwrap();
        let ty = fields(input.payload).unwrap().into_iter().find(|f| f.number == VALUE_INFO_TYPE).unwrap();
        let tensor = fields(ty.payload).unwrap().into_iter().find(|f| f.number == TYPE_TENSOR).unwrap();
        assert_eq!(tensor.payload, [0x08, 0x01]);
        assert_eq!(&split.tail[..2], &[0x08, 0x08], "other model fields kept");
    }

    #[test]
    fn a_boundary_that_is_a_head_output_is_not_output_twice_and_empty_inputs_are_no_boundary() {
        let graph = message(&[
            (GRAPH_NODE, node(&["x"], &["a"])),
            (GRAPH_NODE, node(&["a"], &["y"])),
            // an omitted optional input is an empty name
            (GRAPH_NODE, node(&["a", ""], &["z"])),
            (GRAPH_INPUT, named(VALUE_INFO_NAME, "x")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "y")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "a")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "z")),
        ]);
        let m = model_of(&graph);
        let split = split_outputs(&m, &["y", "a"], &["z"]).unwrap();
        assert_eq!(split.boundary, ["a"]);
        assert_eq!(names(&graph_of(&split.head), GRAPH_OUTPUT, VALUE_INFO_NAME), ["y", "a"]);
        assert_eq!(names(&graph_of(&split.tail), GRAPH_INPUT, VALUE_INFO_NAME), ["a"]);
    }

    #[test]
    fn a_branch_that_reads_the_model_input_is_not_split() {
        let graph = message(&[
            (GRAPH_NODE, node(&["x"], &["a"])),
            (GRAPH_NODE, node(&["a"], &["y"])),
            (GRAPH_NODE, node(&["a", "x"], &["z"])),
            (GRAPH_INPUT, named(VALUE_INFO_NAME, "x")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "y")),
            (GRAPH_OUTPUT, named(VALUE_INFO_NAME, "z")),
        ]);
        let m = model_of(&graph);
        assert_eq!(split_outputs(&m, &["y"], &["z"]), Err(PruneError::TailReadsInput("x".into())));
        assert_eq!(split_outputs(&m, &["y"], &["nope"]), Err(PruneError::UnknownOutput("nope".into())));
    }

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            write_varint(&mut buf, v);
            let mut pos = 0;
            assert_eq!(read_varint(&buf, &mut pos), Ok(v));
            assert_eq!(pos, buf.len());
        }
    }
}
