from .corpus import main

main()
