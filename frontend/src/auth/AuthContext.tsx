import { useQuery, useQueryClient } from '@tanstack/react-query'
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { getMe, getToken, login as apiLogin, onUnauthorized, setToken, switchTenant as apiSwitchTenant, type Me } from '../api'
import { hasPermission } from './permissions'

interface AuthState {
  token: string | null
  me: Me | undefined
  meLoading: boolean
  meError: unknown
  /** true once a 401 sent the user back to the login page (shows a notice there) */
  expired: boolean
  login: (email: string, password: string) => Promise<void>
  /** Start a session from a token obtained elsewhere (WeCom login). */
  loginWithToken: (token: string) => void
  logout: () => void
  switchTenant: (tenantId: number) => Promise<void>
  can: (code: string) => boolean
}

const AuthContext = createContext<AuthState | null>(null)

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient()
  const [token, setTokenState] = useState<string | null>(() => getToken())
  const [expired, setExpired] = useState(false)

  useEffect(
    () =>
      onUnauthorized(() => {
        setTokenState(null)
        setExpired(true)
        queryClient.clear()
      }),
    [queryClient],
  )

  // another tab logged in or out
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === 'scrm.token') {
        setTokenState(e.newValue)
        queryClient.clear()
      }
    }
    window.addEventListener('storage', onStorage)
    return () => window.removeEventListener('storage', onStorage)
  }, [queryClient])

  const meQuery = useQuery({ queryKey: ['me', token], queryFn: getMe, enabled: !!token, staleTime: 60_000 })

  const login = useCallback(
    async (email: string, password: string) => {
      const res = await apiLogin({ email, password })
      queryClient.clear()
      setToken(res.access_token)
      setExpired(false)
      setTokenState(res.access_token)
    },
    [queryClient],
  )

  const loginWithToken = useCallback(
    (accessToken: string) => {
      queryClient.clear()
      setToken(accessToken)
      setExpired(false)
      setTokenState(accessToken)
    },
    [queryClient],
  )

  const logout = useCallback(() => {
    setToken(null)
    setTokenState(null)
    setExpired(false)
    queryClient.clear()
  }, [queryClient])

  const switchTenant = useCallback(
    async (tenantId: number) => {
      const res = await apiSwitchTenant(tenantId)
      setToken(res.access_token)
      queryClient.removeQueries()
      setTokenState(res.access_token)
    },
    [queryClient],
  )

  const permissions = meQuery.data?.permissions
  const can = useCallback((code: string) => hasPermission(permissions, code), [permissions])

  const value = useMemo<AuthState>(
    () => ({
      token,
      me: meQuery.data,
      meLoading: meQuery.isLoading,
      meError: meQuery.error,
      expired,
      login,
      loginWithToken,
      logout,
      switchTenant,
      can,
    }),
    [token, meQuery.data, meQuery.isLoading, meQuery.error, expired, login, loginWithToken, logout, switchTenant, can],
  )
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext)
  if (!ctx) throw new Error('useAuth outside AuthProvider')
  return ctx
}
