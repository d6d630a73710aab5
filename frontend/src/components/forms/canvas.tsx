// The builder's drag and drop: a palette of field types dragged onto the canvas (or clicked to add at the
// end), and the canvas's fields reordered by dragging. One DndContext holds both (@dnd-kit).
import {
  CalendarOutlined,
  CheckSquareOutlined,
  DeleteOutlined,
  DollarOutlined,
  EnvironmentOutlined,
  EyeInvisibleOutlined,
  FieldNumberOutlined,
  FileTextOutlined,
  FontSizeOutlined,
  HolderOutlined,
  MobileOutlined,
  OrderedListOutlined,
  PaperClipOutlined,
  StarOutlined,
  UnorderedListOutlined,
} from '@ant-design/icons'
import {
  closestCenter,
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
} from '@dnd-kit/core'
import { arrayMove, SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable'
import { CSS } from '@dnd-kit/utilities'
import { Button, Card, Empty, Flex, Tag, Tooltip, Typography } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { FieldError } from '../../api'
import { formErrorText } from './FormRenderer'
import { FIELD_TYPES, localText, type FieldSpec, type FieldType } from './model'

export const TYPE_ICONS: Record<FieldType, ReactNode> = {
  text: <FontSizeOutlined />,
  textarea: <FileTextOutlined />,
  number: <FieldNumberOutlined />,
  money: <DollarOutlined />,
  date: <CalendarOutlined />,
  choice: <UnorderedListOutlined />,
  multi_choice: <OrderedListOutlined />,
  region: <EnvironmentOutlined />,
  phone: <MobileOutlined />,
  file: <PaperClipOutlined />,
  rating: <StarOutlined />,
  consent: <CheckSquareOutlined />,
}

export interface CanvasItem {
  uid: string
  field: FieldSpec
}

const CANVAS_ID = 'form-canvas'
const PALETTE_PREFIX = 'palette:'

/** Cards under the pointer first, then the canvas itself; while sorting off-target, the nearest card. */
const collision: CollisionDetection = (args) => {
  const within = pointerWithin(args)
  const cards = within.filter((c) => c.id !== CANVAS_ID)
  if (cards.length) return cards
  if (within.length) return within
  return closestCenter({ ...args, droppableContainers: args.droppableContainers.filter((c) => c.id !== CANVAS_ID) })
}

function PaletteItem({ type, onAdd, disabled }: { type: FieldType; onAdd: (type: FieldType) => void; disabled?: boolean }) {
  const { t } = useTranslation()
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: `${PALETTE_PREFIX}${type}`, disabled })
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      className="form-palette-item"
      style={{ opacity: isDragging ? 0.4 : 1, cursor: disabled ? 'not-allowed' : 'grab' }}
      data-testid={`palette-${type}`}
      onClick={() => !disabled && onAdd(type)}
    >
      {TYPE_ICONS[type]}
      <span>{t(`forms.type.${type}`)}</span>
    </div>
  )
}

function CanvasCard({
  item,
  index,
  selected,
  errors,
  onSelect,
  onRemove,
  disabled,
}: {
  item: CanvasItem
  index: number
  selected: boolean
  errors: FieldError[]
  onSelect: () => void
  onRemove: () => void
  disabled?: boolean
}) {
  const { t, i18n } = useTranslation()
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: item.uid, disabled })
  const { field } = item
  return (
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.5 : 1 }}
      className={`form-canvas-card${selected ? ' selected' : ''}${errors.length ? ' has-errors' : ''}`}
      data-testid={`canvas-field-${field.key}`}
      data-index={index}
      data-selected={selected}
      onClick={onSelect}
      {...attributes}
      {...listeners}
    >
      <Flex align="center" gap={8}>
        <HolderOutlined className="muted" aria-label={t('forms.builder.moveHandle')} />
        {TYPE_ICONS[field.type]}
        <Typography.Text strong ellipsis style={{ flex: 1 }} data-testid={`canvas-field-label-${field.key}`}>
          {localText(field.label, i18n.language, field.key)}
        </Typography.Text>
        <Typography.Text type="secondary" code>
          {field.key}
        </Typography.Text>
        {field.required ? <Tag color="red">{t('forms.builder.required')}</Tag> : null}
        {field.visible_if?.field ? (
          <Tooltip title={t('forms.builder.hidden')}>
            <EyeInvisibleOutlined />
          </Tooltip>
        ) : null}
        {!disabled ? (
          <Button
            type="text"
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t('forms.builder.remove')}
            data-testid={`canvas-remove-${field.key}`}
            onPointerDown={(e) => e.stopPropagation()}
            onClick={(e) => {
              e.stopPropagation()
              onRemove()
            }}
          />
        ) : null}
      </Flex>
      {errors.length ? (
        <div className="form-canvas-errors" data-testid={`canvas-field-errors-${field.key}`}>
          {errors.map((e, i) => (
            <div key={i}>{formErrorText(e, t)}</div>
          ))}
        </div>
      ) : null}
    </div>
  )
}

function CanvasArea({ children, empty }: { children: ReactNode; empty: boolean }) {
  const { t } = useTranslation()
  const { setNodeRef, isOver } = useDroppable({ id: CANVAS_ID })
  return (
    <div ref={setNodeRef} className={`form-canvas${isOver ? ' over' : ''}`} data-testid="form-canvas">
      {empty ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('forms.builder.canvasEmpty')} /> : children}
      {!empty ? (
        <div className="form-canvas-tail" data-testid="form-canvas-tail">
          {t('forms.builder.dropHere')}
        </div>
      ) : null}
    </div>
  )
}

/**
 * Palette and canvas. `onInsert(type, index)` adds a field of `type` at `index`; `onMove` reorders;
 * errors are keyed by the item's uid.
 */
export function FormCanvas({
  items,
  selected,
  errors,
  disabled,
  onSelect,
  onInsert,
  onMove,
  onRemove,
  aside,
}: {
  items: CanvasItem[]
  selected: string | null
  errors: Map<string, FieldError[]>
  disabled?: boolean
  onSelect: (uid: string) => void
  onInsert: (type: FieldType, index: number) => void
  onMove: (items: CanvasItem[]) => void
  onRemove: (uid: string) => void
  aside: ReactNode
}) {
  const { t } = useTranslation()
  const [dragging, setDragging] = useState<string | null>(null)
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  )

  const onDragStart = (event: DragStartEvent) => setDragging(String(event.active.id))
  const onDragEnd = (event: DragEndEvent) => {
    setDragging(null)
    const { active, over } = event
    if (!over) return
    const activeId = String(active.id)
    const overIndex = items.findIndex((i) => i.uid === over.id)
    if (activeId.startsWith(PALETTE_PREFIX)) {
      const type = activeId.slice(PALETTE_PREFIX.length) as FieldType
      if (overIndex < 0) return onInsert(type, items.length)
      // below the middle of the card it was dropped on: after it
      const dragged = active.rect.current.translated
      const below = dragged ? dragged.top + dragged.height / 2 > over.rect.top + over.rect.height / 2 : false
      return onInsert(type, overIndex + (below ? 1 : 0))
    }
    const from = items.findIndex((i) => i.uid === activeId)
    const to = overIndex < 0 ? items.length - 1 : overIndex
    if (from >= 0 && from !== to) onMove(arrayMove(items, from, to))
  }

  const draggingType = dragging?.startsWith(PALETTE_PREFIX) ? (dragging.slice(PALETTE_PREFIX.length) as FieldType) : null
  const draggingItem = items.find((i) => i.uid === dragging)

  return (
    <DndContext sensors={sensors} collisionDetection={collision} onDragStart={onDragStart} onDragEnd={onDragEnd} onDragCancel={() => setDragging(null)}>
      <div className="form-builder">
        <Card size="small" title={t('forms.builder.palette')} className="form-builder-palette" data-testid="form-palette">
          <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
            {t('forms.builder.paletteHelp')}
          </Typography.Paragraph>
          <div className="form-palette-grid">
            {FIELD_TYPES.map((type) => (
              <PaletteItem key={type} type={type} disabled={disabled} onAdd={(kind) => onInsert(kind, items.length)} />
            ))}
          </div>
        </Card>
        <Card size="small" title={t('forms.builder.canvas')} className="form-builder-canvas">
          <SortableContext items={items.map((i) => i.uid)} strategy={verticalListSortingStrategy}>
            <CanvasArea empty={!items.length}>
              {items.map((item, index) => (
                <CanvasCard
                  key={item.uid}
                  item={item}
                  index={index}
                  selected={item.uid === selected}
                  errors={errors.get(item.uid) ?? []}
                  onSelect={() => onSelect(item.uid)}
                  onRemove={() => onRemove(item.uid)}
                  disabled={disabled}
                />
              ))}
            </CanvasArea>
          </SortableContext>
        </Card>
        <div className="form-builder-aside">{aside}</div>
      </div>
      <DragOverlay dropAnimation={null}>
        {draggingType ? (
          <div className="form-palette-item dragging">
            {TYPE_ICONS[draggingType]}
            <span>{t(`forms.type.${draggingType}`)}</span>
          </div>
        ) : draggingItem ? (
          <div className="form-canvas-card dragging">
            {TYPE_ICONS[draggingItem.field.type]} {draggingItem.field.key}
          </div>
        ) : null}
      </DragOverlay>
    </DndContext>
  )
}
