"""The layout holds (docs/adr/0008-layout.md): no import cycle anywhere in desktop/.

The layers themselves are import-linter's contracts in pyproject.toml, checked by `make lint`.
This test looks at modules, not packages: a cycle is a strongly connected component of the
graph of every import grimp finds (imports inside functions count; `if TYPE_CHECKING:` ones
don't), and the failure names each cycle with one loop through it, line by line.
"""

from collections import deque

import grimp


def _graph():
    return grimp.build_graph("desktop", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(edges):
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def _loop(edges, component):
    """One shortest way round the cycle from its first module back to it."""
    start, members = component[0], set(component)
    came_from, queue = {}, deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(edges[node] & members):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1] + [start]
            if successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    return component


def _describe(graph, edges, component):
    loop = _loop(edges, component)
    steps = []
    for importer, imported in zip(loop, loop[1:]):
        lines = sorted(detail["line_number"] for detail in
                       graph.get_import_details(importer=importer, imported=imported))
        where = f" (line {', '.join(map(str, lines))})" if lines else ""
        steps.append(f"    {importer}{where} imports {imported}")
    return f"  {', '.join(component)}:\n" + "\n".join(steps)


def test_cycles_finds_a_cycle_and_only_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e", "d"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _loop(edges, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph = _graph()
    edges = {module: set(graph.find_modules_directly_imported_by(module))
             for module in graph.modules}
    cycles = _cycles(edges)
    assert not cycles, "import cycles in desktop/:\n" + "\n".join(
        _describe(graph, edges, component) for component in cycles)
