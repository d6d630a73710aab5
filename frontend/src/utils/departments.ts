import type { Department } from '../api'

export interface DeptNode {
  key: number
  value: number
  title: string
  children?: DeptNode[]
}

/** Flat `{id, name, parent_id}` rows to a tree; rows whose parent is missing become roots. */
export function buildDeptTree(depts: Department[]): DeptNode[] {
  const byParent = new Map<number | null, Department[]>()
  const ids = new Set(depts.map((d) => d.id))
  for (const d of depts) {
    const parent = d.parent_id != null && ids.has(d.parent_id) && d.parent_id !== d.id ? d.parent_id : null
    const list = byParent.get(parent) ?? []
    list.push(d)
    byParent.set(parent, list)
  }
  const seen = new Set<number>()
  const walk = (parent: number | null): DeptNode[] =>
    (byParent.get(parent) ?? [])
      .filter((d) => !seen.has(d.id))
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
      .map((d) => {
        seen.add(d.id)
        const children = walk(d.id)
        return { key: d.id, value: d.id, title: d.name, children: children.length ? children : undefined }
      })
  const roots = walk(null)
  // anything left is part of a parent cycle: show it at the top level rather than lose it
  for (const d of depts) if (!seen.has(d.id)) roots.push({ key: d.id, value: d.id, title: d.name })
  return roots
}
