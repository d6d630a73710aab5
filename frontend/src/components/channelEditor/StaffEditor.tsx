import { ArrowDownOutlined, ArrowUpOutlined, CalendarOutlined, DeleteOutlined, UserAddOutlined } from '@ant-design/icons'
import { Avatar, Badge, Button, Empty, Flex, Form, Input, InputNumber, Modal, Select, Space, Switch, Tag, Tooltip, Typography } from 'antd'
import type { FormInstance } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { ChannelStaff, WeeklyWindow } from '../../api'
import { useContactStaff } from '../channels'
import { WeekEditor } from './WeekEditor'

export interface StaffRow {
  userid: string
  weight: number
  daily_cap: number | null
  backup: boolean
  store?: string | null
  region?: string | null
  schedule: WeeklyWindow[] | null
}

/**
 * The code's members in routing order (round robin follows it): per member a weight (weighted), a
 * daily cap, the backup flag, store/region (by-location routing) and optional own working hours.
 */
export function StaffEditor({
  form,
  connectionId,
  strategy,
  byLocation,
  current,
  errorsAt,
}: {
  form: FormInstance
  connectionId: number | undefined
  strategy: string
  byLocation: boolean
  /** The saved code's members (presence, today's adds), when editing. */
  current?: ChannelStaff[]
  errorsAt: (prefix: string) => string[]
}) {
  const { t } = useTranslation()
  const members = useContactStaff(connectionId)
  const rows = (Form.useWatch('staff', form) ?? []) as StaffRow[]
  const [scheduleFor, setScheduleFor] = useState<number | null>(null)
  const chosen = new Set(rows.map((r) => r?.userid))
  const available = members.items.filter((m) => !chosen.has(m.userid))
  const primaries = rows.filter((r) => r && !r.backup).length

  return (
    <Form.List
      name="staff"
      rules={[
        {
          validator: async (_, v?: StaffRow[]) => {
            if (!v?.length) throw new Error(t('channels.form.staffRequired'))
          },
        },
      ]}
    >
      {(fields, { add, remove, move }, { errors }) => (
        <div data-testid="channel-staff-editor" data-count={fields.length}>
          <Flex gap={8} style={{ marginBottom: 12 }} wrap>
            <Select
              showSearch
              value={null}
              placeholder={
                <span>
                  <UserAddOutlined /> {t('channels.form.addStaff')}
                </span>
              }
              optionFilterProp="label"
              disabled={!connectionId}
              loading={members.isLoading}
              options={available.map((m) => ({ value: m.userid, label: `${m.name} (${m.userid})`, position: m.position }))}
              onChange={(userid: string) => add({ userid, weight: 1, daily_cap: null, backup: false, store: null, region: null, schedule: null })}
              optionRender={(opt) => (
                <Flex justify="space-between" gap={8} data-testid={`channel-staff-option-${opt.value}`}>
                  <span>{opt.label}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {opt.data.position}
                  </Typography.Text>
                </Flex>
              )}
              notFoundContent={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={connectionId ? t('channels.form.noMoreStaff') : t('channels.form.pickConnectionFirst')} />}
              style={{ width: 300 }}
              data-testid="channel-staff-picker"
            />
            <Typography.Text type="secondary" style={{ alignSelf: 'center' }}>
              {t('channels.form.staffHint')}
            </Typography.Text>
          </Flex>
          {fields.length ? (
            <div className="staff-grid">
              <div className="staff-grid-head">
                <span>{t('channels.form.member')}</span>
                {strategy === 'weighted' ? <span className="staff-col-weight">{t('channels.form.weight')}</span> : null}
                <span className="staff-col-cap">{t('channels.form.dailyCap')}</span>
                <span className="staff-col-backup">{t('channels.form.backup')}</span>
                {byLocation ? <span className="staff-col-place">{t('channels.form.storeRegion')}</span> : null}
                <span className="staff-col-actions" />
              </div>
              {fields.map((field, i) => {
                const row = rows[i]
                const saved = current?.find((s) => s.userid === row?.userid)
                const name = members.nameOf(row?.userid ?? '') || saved?.name || row?.userid
                const rowErrors = errorsAt(`staff.${i}`)
                return (
                  <div key={field.key} className="staff-grid-row" data-testid={`channel-staff-row-${i}`} data-userid={row?.userid}>
                    <div className="staff-grid-main">
                      <Flex align="center" gap={8}>
                        <Avatar size="small" style={{ background: row?.backup ? '#fa8c16' : '#1677ff', flex: 'none' }}>
                          {(name ?? '?').slice(0, 1)}
                        </Avatar>
                        <div style={{ minWidth: 0 }}>
                          <div>
                            <Typography.Text strong>{name}</Typography.Text>{' '}
                            {saved ? (
                              <Tooltip title={saved.is_online ? t('channels.online') : t('channels.offlineHint')}>
                                <Badge status={saved.is_online ? 'success' : 'default'} text={saved.is_online ? t('channels.online') : t('channels.offline')} />
                              </Tooltip>
                            ) : null}
                          </div>
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            {row?.userid}
                            {saved ? ` · ${t('channels.form.addsToday', { count: saved.adds_today })}` : ''}
                          </Typography.Text>
                        </div>
                      </Flex>
                      {rowErrors.length ? (
                        <Typography.Text type="danger" style={{ fontSize: 12, display: 'block' }} data-testid={`channel-staff-row-${i}-errors`}>
                          {rowErrors.join('；')}
                        </Typography.Text>
                      ) : null}
                    </div>
                    {strategy === 'weighted' ? (
                      <Form.Item name={[field.name, 'weight']} className="staff-col-weight" style={{ marginBottom: 0 }} rules={[{ required: true, message: t('channels.form.weightRequired') }]}>
                        <InputNumber min={1} max={100} precision={0} style={{ width: 80 }} data-testid={`channel-staff-${i}-weight`} />
                      </Form.Item>
                    ) : null}
                    <Form.Item name={[field.name, 'daily_cap']} className="staff-col-cap" style={{ marginBottom: 0 }}>
                      <InputNumber min={1} max={100000} precision={0} placeholder={t('channels.form.noCap')} style={{ width: 92 }} data-testid={`channel-staff-${i}-cap`} />
                    </Form.Item>
                    <Form.Item name={[field.name, 'backup']} valuePropName="checked" className="staff-col-backup" style={{ marginBottom: 0 }}>
                      <Switch size="small" data-testid={`channel-staff-${i}-backup`} />
                    </Form.Item>
                    {byLocation ? (
                      <Space.Compact className="staff-col-place">
                        <Form.Item name={[field.name, 'store']} noStyle>
                          <Input placeholder={t('channels.form.store')} style={{ width: 110 }} maxLength={100} data-testid={`channel-staff-${i}-store`} />
                        </Form.Item>
                        <Form.Item name={[field.name, 'region']} noStyle>
                          <Input placeholder={t('channels.form.region')} style={{ width: 90 }} maxLength={100} data-testid={`channel-staff-${i}-region`} />
                        </Form.Item>
                      </Space.Compact>
                    ) : null}
                    <Space size={0} className="staff-col-actions">
                      <Tooltip title={row?.schedule ? t('channels.form.ownScheduleOn') : t('channels.form.ownSchedule')}>
                        <Button
                          type="text"
                          size="small"
                          icon={<CalendarOutlined style={row?.schedule ? { color: '#1677ff' } : undefined} />}
                          onClick={() => setScheduleFor(i)}
                          aria-label={t('channels.form.ownSchedule')}
                          data-testid={`channel-staff-${i}-schedule`}
                        />
                      </Tooltip>
                      <Button type="text" size="small" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => move(i, i - 1)} aria-label={t('channels.moveUp')} />
                      <Button type="text" size="small" icon={<ArrowDownOutlined />} disabled={i === fields.length - 1} onClick={() => move(i, i + 1)} aria-label={t('channels.moveDown')} />
                      <Button type="text" size="small" danger icon={<DeleteOutlined />} onClick={() => remove(field.name)} aria-label={t('common.delete')} data-testid={`channel-staff-${i}-remove`} />
                    </Space>
                  </div>
                )
              })}
            </div>
          ) : null}
          {fields.length && !primaries ? (
            <Typography.Text type="warning" data-testid="channel-staff-no-primary">
              {t('channels.form.noPrimary')}
            </Typography.Text>
          ) : null}
          <Form.ErrorList errors={errors} />
          {errorsAt('staff').length ? (
            <Typography.Text type="danger" data-testid="channel-staff-errors">
              {errorsAt('staff').join('；')}
            </Typography.Text>
          ) : null}
          {scheduleFor !== null && rows[scheduleFor] ? (
            <Modal
              open
              width={720}
              title={t('channels.form.ownScheduleTitle', { name: members.nameOf(rows[scheduleFor].userid) })}
              onCancel={() => setScheduleFor(null)}
              footer={[
                <Button
                  key="clear"
                  onClick={() => {
                    form.setFieldValue(['staff', scheduleFor, 'schedule'], null)
                    setScheduleFor(null)
                  }}
                  data-testid="channel-staff-schedule-clear"
                >
                  {t('channels.form.useCodeSchedule')}
                </Button>,
                <Button key="ok" type="primary" onClick={() => setScheduleFor(null)} data-testid="channel-staff-schedule-done">
                  {t('common.ok')}
                </Button>,
              ]}
            >
              <Typography.Paragraph type="secondary">{t('channels.form.ownScheduleHint')}</Typography.Paragraph>
              {rows[scheduleFor].schedule ? null : <Tag style={{ marginBottom: 8 }}>{t('channels.form.followsCode')}</Tag>}
              <Form.Item name={[scheduleFor, 'schedule']} noStyle>
                <WeekEditor testId="channel-staff-schedule" />
              </Form.Item>
            </Modal>
          ) : null}
        </div>
      )}
    </Form.List>
  )
}
