import type { ReactNode } from 'react'
import { useAuth } from '../auth/AuthContext'
import { Forbidden } from './states'

export function RequirePermission({ perm, children }: { perm: string; children: ReactNode }) {
  const { can } = useAuth()
  return can(perm) ? <>{children}</> : <Forbidden />
}
