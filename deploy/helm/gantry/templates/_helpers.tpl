{{- define "gantry.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "gantry.labels" -}}
app.kubernetes.io/name: gantry
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "gantry.selector" -}}
app.kubernetes.io/name: gantry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "gantry.namespaces" -}}
{{- if .Values.environmentNamespaces }}{{ join "," .Values.environmentNamespaces }}{{ else }}{{ .Release.Namespace }}{{ end -}}
{{- end -}}
