"""Custom forms (自定义表单): definitions as JSON Schema with UI hints, versions and submissions."""
