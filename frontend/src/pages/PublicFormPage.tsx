import { useMutation, useQuery } from '@tanstack/react-query'
import { Alert, Button, Card, Flex, Form, Result, Spin, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useParams } from 'react-router-dom'
import { ApiError, getPublicForm, submitPublicForm, type FieldError } from '../api'
import { FormRenderer } from '../components/forms/FormRenderer'
import { answersToSend, type FieldSpec } from '../components/forms/model'
import '../components/forms/forms.css'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { errorText } from '../components/useApiError'

// The public form (no login, phones first): the current definition, the server's field errors on the
// fields, and a thank-you once it is in.

export default function PublicFormPage() {
  const { t } = useTranslation()
  const publicKey = useParams().publicKey ?? ''
  const [form] = Form.useForm()
  const [errors, setErrors] = useState<FieldError[]>([])
  const [done, setDone] = useState(false)
  const definition = useQuery({ queryKey: ['public-form', publicKey], queryFn: () => getPublicForm(publicKey) })
  const fields = (definition.data?.fields ?? []) as unknown as FieldSpec[]
  const submit = useMutation({
    mutationFn: (values: Record<string, unknown>) => submitPublicForm(publicKey, answersToSend(fields, values)),
    onMutate: () => setErrors([]),
    onSuccess: () => setDone(true),
    onError: (err) => {
      if (err instanceof ApiError && err.status === 422) setErrors(err.errors)
    },
  })

  let body
  if (definition.isLoading) {
    body = (
      <Flex justify="center" style={{ padding: 48 }}>
        <Spin />
      </Flex>
    )
  } else if (definition.error) {
    const missing = definition.error instanceof ApiError && definition.error.status === 404
    body = (
      <div data-testid="public-form-missing">
        <Result status={missing ? '404' : 'error'} title={missing ? t('forms.public.notFound') : errorText(definition.error, t)} />
      </div>
    )
  } else if (done) {
    body = (
      <div data-testid="public-form-done">
      <Result
        status="success"
        title={t('forms.public.submitted')}
        subTitle={t('forms.public.submittedHelp')}
        extra={
          <Button
            onClick={() => {
              form.resetFields()
              setDone(false)
            }}
          >
            {t('forms.public.again')}
          </Button>
        }
      />
      </div>
    )
  } else {
    const failed = submit.error
    body = (
      <>
        <Typography.Title level={3} style={{ marginTop: 0 }} data-testid="public-form-title">
          {definition.data?.name}
        </Typography.Title>
        {definition.data?.description ? <Typography.Paragraph type="secondary">{definition.data.description}</Typography.Paragraph> : null}
        {failed ? (
          <Alert
            type="error"
            showIcon
            style={{ marginBottom: 16 }}
            data-testid="public-form-error"
            message={
              failed instanceof ApiError && failed.status === 422
                ? t('forms.public.fixErrors')
                : failed instanceof ApiError && failed.status === 429
                  ? t('forms.public.tooMany')
                  : errorText(failed, t)
            }
          />
        ) : null}
        <FormRenderer fields={fields} form={form} errors={errors} onSubmit={(values) => submit.mutate(values)} submitting={submit.isPending} testIdPrefix="public-field" />
      </>
    )
  }
  return (
    <div className="public-form-page" data-testid="public-form-page">
      <Card className="public-form-card" extra={<LanguageSwitch />}>
        {body}
      </Card>
    </div>
  )
}
