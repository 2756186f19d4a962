{{- define "slb-emulator.labels" -}}
app.kubernetes.io/name: slb-emulator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
