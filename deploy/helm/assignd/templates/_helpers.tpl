{{/* The name of every object: the release name, with the chart's name unless it already holds it. */}}
{{- define "assignd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the server pods. */}}
{{- define "assignd.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Labels on every object. */}}
{{- define "assignd.labels" -}}
{{ include "assignd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The policy ConfigMap's name. */}}
{{- define "assignd.policyConfigMap" -}}
{{- .Values.policy.existingConfigMap | default (printf "%s-policy" (include "assignd.fullname" .)) -}}
{{- end -}}

{{/* The route's hostnames: as set, or publicBaseURL's host. */}}
{{- define "assignd.hostnames" -}}
{{- $hosts := .Values.route.gateway.hostnames -}}
{{- if not $hosts -}}{{- $hosts = list (urlParse .Values.publicBaseURL).host -}}{{- end -}}
{{- toYaml $hosts -}}
{{- end -}}
