module github.com/camcycle/camcycle

go 1.26
