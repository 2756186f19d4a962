module slb-operator.invalid/hack/tools/pause

go 1.26.0
