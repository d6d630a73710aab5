import i18n from 'i18next'
import { initReactI18next } from 'react-i18next'
import en from './en'
import zhCN from './zh-CN'

export type Lang = 'zh-CN' | 'en'
export const LANG_KEY = 'scrm.lang'

function initialLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: initialLang(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
})

function applyDocument(lng: string) {
  document.documentElement.lang = lng
  document.title = lng === 'en' ? en.app.name : zhCN.app.name
}
applyDocument(i18n.language)

export function setLang(lng: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lng)
  } catch {
    /* private mode: the choice lasts for this tab only */
  }
  void i18n.changeLanguage(lng)
  applyDocument(lng)
}

export default i18n
